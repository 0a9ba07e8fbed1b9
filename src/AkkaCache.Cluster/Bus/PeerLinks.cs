using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;

namespace AkkaCache.Cluster.Bus;

/// <summary>
/// One link per other member of the current map: made when a member appears, replaced when its endpoint changes,
/// closed when it leaves. Readers take <see cref="Current"/> without a lock; maps are applied in epoch order.
/// </summary>
public sealed class PeerLinks<TLink>(string selfId, Func<ClusterMember, TLink> create, Action<TLink>? onRemoved = null) : IAsyncDisposable
    where TLink : PeerLink
{
    private readonly object _gate = new();
    private readonly Dictionary<string, TLink> _links = [];
    private TLink[] _current = [];
    private ClusterTopology? _applied;
    private bool _disposed;

    public TLink[] Current => Volatile.Read(ref _current);

    /// <summary>Follows <paramref name="topology"/> (one reference comparison while the map is unchanged).</summary>
    public void Apply(ClusterTopology? topology)
    {
        if (topology is null || ReferenceEquals(topology, Volatile.Read(ref _applied))) return;
        List<TLink> closed = [];
        lock (_gate)
        {
            if (_disposed || _applied is not null && topology.Epoch < _applied.Epoch) return;
            Volatile.Write(ref _applied, topology);
            var wanted = new HashSet<string>();
            foreach (var member in topology.Map.Members)
            {
                if (member.Id == selfId) continue;
                wanted.Add(member.Id);
                if (_links.TryGetValue(member.Id, out var link) && link.Endpoint == member.Endpoint) continue;
                if (link is not null) closed.Add(link);
                _links[member.Id] = create(member);
            }
            foreach (var (id, link) in _links)
                if (!wanted.Contains(id)) closed.Add(link);
            foreach (var link in closed)
            {
                if (_links.TryGetValue(link.Id, out var current) && ReferenceEquals(current, link)) _links.Remove(link.Id);
                onRemoved?.Invoke(link);
            }
            Volatile.Write(ref _current, [.. _links.Values]);
        }
        foreach (var link in closed) _ = link.DisposeAsync().AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        TLink[] links;
        lock (_gate)
        {
            _disposed = true;
            links = [.. _links.Values];
            _links.Clear();
            Volatile.Write(ref _current, []);
        }
        foreach (var link in links) await link.DisposeAsync();
    }
}
