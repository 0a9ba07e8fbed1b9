using System.Globalization;
using System.Text.RegularExpressions;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests.Infrastructure;

/// <summary>Real node processes forming one Akka cluster through seed nodes, all stopped and cleaned up on dispose.</summary>
public sealed partial class TestCluster : IAsyncDisposable
{
    private readonly List<string> _extraArgs;
    private int _nextId;

    private TestCluster(IEnumerable<string> extraArgs)
    {
        _extraArgs = [.. extraArgs];
        int pass = _extraArgs.IndexOf("--requirepass");
        Password = pass >= 0 ? _extraArgs[pass + 1] : null;
        Name = "t" + Guid.NewGuid().ToString("N")[..8];
        _seedPorts = [NodeProcess.FreePort(), NodeProcess.FreePort()];
        SeedNodes = string.Join(",", _seedPorts.Select(p => $"127.0.0.1:{p}"));
    }

    /// <summary>
    /// host:cluster-port of the seed nodes every node is started with: the cluster ports of the first two nodes, so a
    /// first node restarted while the others run joins them instead of forming a cluster of its own.
    /// </summary>
    public string SeedNodes { get; }

    private readonly int[] _seedPorts;

    /// <summary>The nodes' requirepass, when the cluster was started with one.</summary>
    public string? Password { get; }
    public string Name { get; }
    public List<NodeProcess> Nodes { get; } = [];

    public IEnumerable<NodeProcess> Running => Nodes.Where(n => !n.HasExited);

    /// <summary>Starts <paramref name="nodes"/> nodes at once, seeded by the first; extra switches go to every node (e.g. --shards 64).</summary>
    public static async Task<TestCluster> StartAsync(int nodes, params string[] extraArgs)
    {
        var cluster = new TestCluster(extraArgs);
        try
        {
            var started = new List<NodeProcess>();
            for (int i = 0; i < nodes; i++) started.Add(cluster.StartNode());
            foreach (var node in started) await node.WaitReadyAsync();
            await cluster.WaitStableAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts one more node (seeded like the others) without waiting for it.</summary>
    public NodeProcess StartNode(params string[] extraArgs)
    {
        int port = NodeProcess.FreePort(), clusterPort = _nextId < _seedPorts.Length ? _seedPorts[_nextId] : NodeProcess.FreePort();
        var node = NodeProcess.StartClusterNode(SeedNodes, Name, $"node-{_nextId++}", port, clusterPort, extra: [.. _extraArgs, .. extraArgs]);
        Nodes.Add(node);
        return node;
    }

    public async Task<NodeProcess> AddNodeAsync(bool wait = true, params string[] extraArgs)
    {
        var node = StartNode(extraArgs);
        await node.WaitReadyAsync();
        if (wait) await WaitStableAsync();
        return node;
    }

    /// <summary>
    /// Until every running node follows the same map, that map names exactly the running nodes, covers every slot,
    /// and has no shard in flight.
    /// </summary>
    public async Task WaitStableAsync(TimeSpan? deadline = null)
    {
        string last = "";
        await Poll.UntilAsync(async () =>
        {
            var running = Running.ToList();
            var epochs = new HashSet<long>();
            foreach (var node in running)
            {
                var info = await QueryAsync(node, Password, ["CLUSTER", "INFO"]);
                last = $"{node.Id}: {info}";
                if (Field(info, "cluster_state") != "ok" || Field(info, "cluster_known_nodes") != running.Count.ToString(CultureInfo.InvariantCulture)
                    || Field(info, "cluster_slots_assigned") != "16384" || Field(info, "cluster_shards_migrating") != "0")
                    return false;
                epochs.Add(long.Parse(Field(info, "cluster_current_epoch")!, CultureInfo.InvariantCulture));
                var nodes = await QueryAsync(node, Password, ["CLUSTER", "NODES"]);
                if (nodes.Contains("->-", StringComparison.Ordinal) || nodes.Contains("-<-", StringComparison.Ordinal)) return false;
                // the same count is not enough: right after a kill and a join, the map can still name the dead node and not the new one
                if (!MapPorts(nodes).SetEquals(running.Select(n => n.Port))) return false;
            }
            return epochs.Count == 1;
        }, "a stable cluster map: " + last, deadline ?? TimeSpan.FromSeconds(90));
    }

    /// <summary>The client ports of the members a CLUSTER NODES reply names ("id host:port@cport flags ...").</summary>
    private static HashSet<int> MapPorts(string clusterNodes) =>
    [
        .. clusterNodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[1])
            .Select(address => int.Parse(address[(address.LastIndexOf(':') + 1)..address.IndexOf('@')], CultureInfo.InvariantCulture)),
    ];

    /// <summary>Until no running node has a replication stream behind: every write so far is on its replicas.</summary>
    public async Task WaitReplicatedAsync(TimeSpan? deadline = null)
    {
        string last = "";
        await Poll.UntilAsync(async () =>
        {
            foreach (var node in Running.ToList())
            {
                var info = await QueryAsync(node, Password, ["INFO", "replication"]);
                last = $"{node.Id}: {info}";
                if (Field(info, "akkacache_repl_lag_writes") != "0") return false;
            }
            return true;
        }, "every replica caught up: " + last, deadline ?? TimeSpan.FromSeconds(60));
    }

    public static async Task<string> InfoAsync(NodeProcess node) => await TextAsync(node, "CLUSTER", "INFO");

    public static Task<string> TextAsync(NodeProcess node, params string[] args) => QueryAsync(node, null, args);

    /// <summary>One request on a fresh connection (after AUTH when there is a password); an error or an unreachable node comes back as text.</summary>
    public static async Task<string> QueryAsync(NodeProcess node, string? password, string[] args)
    {
        try
        {
            await using var client = await RespTestClient.ConnectAsync(node.Port);
            if (password is not null) (await client.SendAsync("AUTH", password)).AssertOk();
            var reply = await client.SendAsync(args);
            return reply.IsError ? "error: " + reply.AsString() : reply.AsString() ?? "";
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            // refused, or reset by a node that is dying
            return "unreachable: " + e.Message;
        }
    }

    public static string? Field(string info, string name)
    {
        var match = Regex.Match(info, "^" + Regex.Escape(name) + ":(.*?)\r?$", RegexOptions.Multiline);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>Primary slot counts per node from CLUSTER NODES ("myself" and the others alike), keyed by the endpoint's port.</summary>
    public static Dictionary<int, int> SlotsPerNode(string nodesText)
    {
        var slots = new Dictionary<int, int>();
        foreach (var line in nodesText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            int port = int.Parse(fields[1].Split('@')[0].Split(':')[^1], CultureInfo.InvariantCulture);
            int count = 0;
            foreach (var range in fields.Skip(8))
            {
                if (range.StartsWith('[')) continue;
                var bounds = range.Split('-');
                count += bounds.Length == 1 ? 1 : int.Parse(bounds[1], CultureInfo.InvariantCulture) - int.Parse(bounds[0], CultureInfo.InvariantCulture) + 1;
            }
            slots[port] = count;
        }
        return slots;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        // kept for a failed run's post-mortem (CI shows the path in the failure output of WaitStableAsync and friends)
        var logs = Path.Combine(Path.GetTempPath(), "akkacache-test-logs");
        Directory.CreateDirectory(logs);
        foreach (var node in Nodes) await File.WriteAllTextAsync(Path.Combine(logs, $"{Name}-{node.Id}.log"), node.Output);
    }
}
