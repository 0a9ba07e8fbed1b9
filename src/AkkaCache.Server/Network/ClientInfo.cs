using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace AkkaCache.Server.Network;

/// <summary>What CLIENT LIST / CLIENT INFO show about a connection; written by its session, read by others.</summary>
internal sealed class ClientInfo(long id, string address, string localAddress, long createdMs, Action kill)
{
    public long Id { get; } = id;
    public string Address { get; } = address;
    public string LocalAddress { get; } = localAddress;
    public long CreatedMs { get; } = createdMs;
    public string? Name { get; set; }
    public string? LibName { get; set; }
    public string? LibVersion { get; set; }
    public int Protocol { get; set; } = 2;
    public bool InTransaction { get; set; }
    public int TransactionLength { get; set; }
    public int WatchedKeys { get; set; }
    public string LastCommand { get; set; } = "NULL";
    public long LastCommandMs { get; private set; } = createdMs;
    public long Commands { get; set; }

    /// <summary>Reads this client had served from hot-key copies (see <see cref="ClientRegistry.HotReadsServed"/>).</summary>
    public long HotReads { get; set; }

    /// <summary>Per-command calls, time and latency histogram of this connection (INFO commandstats, LATENCY HISTOGRAM, metrics).</summary>
    public Diagnostics.SessionCommandStats CommandStats { get; } = new();

    /// <summary>Set by the connection's first (P)SUBSCRIBE.</summary>
    public PubSub.Subscriber? Subscriber { get; set; }

    public int SubscribedChannels => Subscriber?.ChannelCount ?? 0;
    public int SubscribedPatterns => Subscriber?.PatternCount ?? 0;

    /// <summary>Redis's client type: "pubsub" while subscribed to anything, else "normal".</summary>
    public bool IsPubSub => Subscriber is { Count: > 0 };

    /// <summary>Another member's pub/sub forwarding link (AC.PUBSUBHELLO): quiet between messages, never idle.</summary>
    public bool IsClusterPeer { get; set; }

    public string Type => IsPubSub ? "pubsub" : "normal";

    public void OnCommand(long nowMs) => LastCommandMs = nowMs;

    public void Kill() => kill();

    /// <summary>One CLIENT LIST line in Redis's format (fields clients parse; memory fields are not tracked and show 0).</summary>
    public string Describe(long nowMs)
    {
        var line = new StringBuilder(256);
        line.Append(CultureInfo.InvariantCulture,
            $"id={Id} addr={Address} laddr={LocalAddress} fd=0 name={Name} age={(nowMs - CreatedMs) / 1000} idle={(nowMs - LastCommandMs) / 1000} ");
        string flags = (IsPubSub ? "P" : "") + (InTransaction ? "x" : "");
        line.Append(CultureInfo.InvariantCulture,
            $"flags={(flags.Length == 0 ? "N" : flags)} db=0 sub={SubscribedChannels} psub={SubscribedPatterns} ssub=0 multi={(InTransaction ? TransactionLength : -1)} watch={WatchedKeys} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={Subscriber?.PendingBytes ?? 0} tot-mem=0 events=r ");
        line.Append(CultureInfo.InvariantCulture,
            $"cmd={LastCommand} user=default redir=-1 resp={Protocol} lib-name={LibName} lib-ver={LibVersion}");
        return line.ToString();
    }
}

internal sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientInfo> _clients = new();
    private long _nextId;
    private long _connectionsReceived;
    private long _commandsOfClosedClients;
    private long _hotReadsOfClosedClients;

    public ClientRegistry() => CommandStats = new Diagnostics.NodeCommandStats(this);

    /// <summary>The node's per-command counters: the live clients' plus those of closed ones.</summary>
    public Diagnostics.NodeCommandStats CommandStats { get; }

    public int Count => _clients.Count;
    public long ConnectionsReceived => Interlocked.Read(ref _connectionsReceived);

    public ClientInfo Add(string address, string localAddress, long nowMs, Action kill)
    {
        var info = new ClientInfo(Interlocked.Increment(ref _nextId), address, localAddress, nowMs, kill);
        _clients[info.Id] = info;
        Interlocked.Increment(ref _connectionsReceived);
        return info;
    }

    public void Remove(ClientInfo info)
    {
        if (!_clients.TryRemove(info.Id, out _)) return;
        Interlocked.Add(ref _commandsOfClosedClients, info.Commands);
        Interlocked.Add(ref _hotReadsOfClosedClients, info.HotReads);
        CommandStats.OnClosed(info.CommandStats);
    }

    /// <summary>Closes clients idle for longer than <paramref name="timeoutSeconds"/> (redis <c>timeout</c>); returns how many.</summary>
    public int CloseIdle(long nowMs, long timeoutSeconds)
    {
        if (timeoutSeconds <= 0) return 0;
        int closed = 0;
        foreach (var client in _clients.Values)
        {
            // as in Redis, a subscriber waiting quietly for messages is not idle, nor is a cluster peer's link
            if (client.IsPubSub || client.IsClusterPeer || nowMs - client.LastCommandMs <= timeoutSeconds * 1000) continue;
            client.Kill();
            closed++;
        }
        return closed;
    }

    public IEnumerable<ClientInfo> All => _clients.Values.OrderBy(c => c.Id);

    /// <summary>The connected clients in no particular order (cheaper than <see cref="All"/> for summing).</summary>
    internal ICollection<ClientInfo> Live => _clients.Values;

    public bool TryGet(long id, out ClientInfo info) => _clients.TryGetValue(id, out info!);

    /// <summary>Commands processed by all clients, live and gone (per-session counters keep the request path free of shared writes).</summary>
    public long CommandsProcessed
    {
        get
        {
            long total = Interlocked.Read(ref _commandsOfClosedClients);
            foreach (var client in _clients.Values) total += client.Commands;
            return total;
        }
    }

    /// <summary>Reads served from hot-key copies of other nodes' keys, by all clients live and gone.</summary>
    public long HotReadsServed
    {
        get
        {
            long total = Interlocked.Read(ref _hotReadsOfClosedClients);
            foreach (var client in _clients.Values) total += client.HotReads;
            return total;
        }
    }
}
