using System.Text;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// What the <c>akkacache</c> operations tool asks of a node beyond the Redis commands: AC.CLUSTERSTATE (members as
/// Akka sees them, the coordinator and the map, as JSON), CLUSTER DOWN (Akka's Down of another member), CLUSTER JOIN
/// (Akka's Join), AC.SHARDPIN / AC.SHARDUNPIN (operator shard placement, through the map coordinator). Those that ask
/// the coordinator defer their reply; none is on a data path.
/// </summary>
internal static class AdminCommands
{
    private const string Disabled = "ERR This instance has cluster support disabled";

    public static void Register(List<CommandDefinition> list)
    {
        list.Add("AC.CLUSTERSTATE", 1, CommandFlags.Stale, 0, 0, 0, ClusterState, "cluster",
            "Returns the cluster's members (Akka status and roles), coordinator, epoch and shard map as this node sees them, as JSON (for the akkacache tool).");
        list.Add("AC.SHARDPIN", 3, CommandFlags.Stale, 0, 0, 0, Pin, "cluster",
            "Pins a shard to a member: the coordinator moves it there and keeps it there (akkacache shards move).");
        list.Add("AC.SHARDUNPIN", 2, CommandFlags.Stale, 0, 0, 0, Pin, "cluster",
            "Lets the balancer move a pinned shard again; 1 if it was pinned, else 0.");
    }

    private static void ClusterState(ClientSession session, in Request request) =>
        DeferToAgent(session, async agent => session.Writer.WriteBulkString((await agent.ReadStateAsync()).ToJson()));

    /// <summary>AC.SHARDPIN shard member-id: +OK; AC.SHARDUNPIN shard: 1 if it was pinned, else 0.</summary>
    private static void Pin(ClientSession session, in Request request)
    {
        if (!RespNumbers.TryParseInt64(request[1], out long parsed) || parsed is < 0 or > int.MaxValue)
        {
            session.Writer.WriteError("ERR shard is not a non-negative integer");
            return;
        }
        int shard = (int)parsed;
        if (request.Count == 2)
        {
            DeferToAgent(session, async agent => session.Writer.WriteInteger(await agent.UnpinAsync(shard) ? 1 : 0));
            return;
        }
        string member = Encoding.UTF8.GetString(request[2]);
        DeferToAgent(session, async agent =>
        {
            await agent.PinAsync(shard, member);
            session.Writer.WriteOk();
        });
    }

    /// <summary>CLUSTER DOWN member-id: +OK when Akka's Down was issued, +ALREADYDOWN when it is down or gone already; an error for an unknown id.</summary>
    public static void Down(ClientSession session, in Request request)
    {
        if (request.Count != 3)
        {
            session.Writer.WriteError("ERR wrong number of arguments for 'cluster|down' command");
            return;
        }
        string member = Encoding.UTF8.GetString(request[2]);
        string shown = ClientSession.Printable(request[2], 128);
        DeferToAgent(session, async agent =>
        {
            switch (await agent.DownAsync(member))
            {
                case DownOutcome.Unknown:
                    session.Writer.WriteError($"ERR unknown node '{shown}'");
                    break;
                case DownOutcome.AlreadyDown:
                    session.Writer.WriteSimpleString("ALREADYDOWN");
                    break;
                default:
                    session.Writer.WriteOk();
                    break;
            }
        });
    }

    /// <summary>CLUSTER JOIN host:cluster-port: Akka's Join of this node to the cluster of that seed; +OK once asked.</summary>
    public static void Join(ClientSession session, in Request request)
    {
        if (request.Count != 3)
        {
            session.Writer.WriteError("ERR wrong number of arguments for 'cluster|join' command");
            return;
        }
        string address = Encoding.UTF8.GetString(request[2]);
        DeferToAgent(session, agent =>
        {
            agent.JoinSeed(address);
            session.Writer.WriteOk();
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> after the reply is deferred; a refused order (<see cref="ArgumentException"/>), a
    /// coordinator that does not answer and a node between incarnations become error replies.
    /// </summary>
    private static void DeferToAgent(ClientSession session, Func<ClusterAgent, Task> work)
    {
        if (session.Node.Cluster is not { } agent)
        {
            session.Writer.WriteError(Disabled);
            return;
        }
        session.Defer(async () =>
        {
            try
            {
                await work(agent);
            }
            catch (ArgumentException e)
            {
                session.Writer.WriteError("ERR " + e.Message);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or TaskCanceledException)
            {
                session.Writer.WriteError($"CLUSTERDOWN {e.Message.ReplaceLineEndings(" ")}");
            }
        });
    }
}
