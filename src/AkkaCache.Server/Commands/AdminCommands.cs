using System.Text;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Cluster.Etcd;
using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// What the <c>akkacache</c> operations tool asks of a node beyond the Redis commands: AC.CLUSTERSTATE (the control
/// plane as etcd holds it, as JSON), CLUSTER DOWN (declare another member dead now), AC.SHARDPIN / AC.SHARDUNPIN
/// (operator shard placement) and AC.FENCE (node to node, from CLUSTER DOWN). Those that talk to etcd defer their
/// reply; none is on a data path.
/// </summary>
internal static class AdminCommands
{
    private const string Disabled = "ERR This instance has cluster support disabled";

    public static void Register(List<CommandDefinition> list)
    {
        list.Add("AC.CLUSTERSTATE", 1, CommandFlags.Stale, 0, 0, 0, ClusterState, "cluster",
            "Returns the cluster's members, leader, epoch and shard map as etcd holds them now, as JSON (for the akkacache tool).");
        list.Add("AC.SHARDPIN", 3, CommandFlags.Stale, 0, 0, 0, Pin, "cluster",
            "Pins a shard to a member: the leader moves it there and keeps it there (akkacache shards move).");
        list.Add("AC.SHARDUNPIN", 2, CommandFlags.Stale, 0, 0, 0, Pin, "cluster",
            "Lets the balancer move a pinned shard again; 1 if it was pinned, else 0.");
        list.Add(ClusterAgent.FenceCommand, 2, CommandFlags.Stale | CommandFlags.Fast, 0, 0, 0, Fence, "cluster",
            "Stops this node serving at once: another node declared it down and revoked its lease (node to node, CLUSTER DOWN).");
    }

    private static void ClusterState(ClientSession session, in Request request) =>
        DeferToEtcd(session, async agent => session.Writer.WriteBulkString((await agent.ReadStateAsync()).ToJson()));

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
            DeferToEtcd(session, async agent => session.Writer.WriteInteger(await agent.UnpinAsync(shard) ? 1 : 0));
            return;
        }
        string member = Encoding.UTF8.GetString(request[2]);
        DeferToEtcd(session, async agent =>
        {
            await agent.PinAsync(shard, member);
            session.Writer.WriteOk();
        });
    }

    /// <summary>
    /// CLUSTER DOWN member-id: +FENCED when the member's lease was revoked and it confirmed it stopped serving, +OK when
    /// revoked but it did not answer, +ALREADYDOWN when it had no lease left; an error for an unknown id.
    /// </summary>
    public static void Down(ClientSession session, in Request request)
    {
        if (request.Count != 3)
        {
            session.Writer.WriteError("ERR wrong number of arguments for 'cluster|down' command");
            return;
        }
        string member = Encoding.UTF8.GetString(request[2]);
        string shown = ClientSession.Printable(request[2], 128);
        DeferToEtcd(session, async agent =>
        {
            switch (await agent.DownAsync(member))
            {
                case DownOutcome.Unknown:
                    session.Writer.WriteError($"ERR unknown node '{shown}'");
                    break;
                case DownOutcome.RevokedAndFenced:
                    session.Writer.WriteSimpleString("FENCED");
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

    private static void Fence(ClientSession session, in Request request)
    {
        if (session.Node.Cluster is not { } agent)
        {
            session.Writer.WriteError(Disabled);
            return;
        }
        if (!RespNumbers.TryParseInt64(request[1], out long incarnation))
        {
            session.Writer.WriteError("ERR invalid incarnation");
            return;
        }
        if (agent.Fence(incarnation)) session.Writer.WriteOk();
        else session.Writer.WriteError("ERR not this node's current incarnation");
    }

    /// <summary>
    /// Runs <paramref name="work"/> after the reply is deferred; a refused order (<see cref="ArgumentException"/>) and an
    /// unreachable etcd become error replies.
    /// </summary>
    private static void DeferToEtcd(ClientSession session, Func<ClusterAgent, Task> work)
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
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or EtcdException)
            {
                session.Writer.WriteError($"CLUSTERDOWN cannot reach etcd at {agent.Settings.Etcd}: {e.Message.ReplaceLineEndings(" ")}");
            }
        });
    }
}
