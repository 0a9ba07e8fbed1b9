using AkkaCache.Protocol;
using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>
/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB. In cluster mode a PUBLISH is forwarded to every
/// other member (AC.PUBLISHLOCAL), so it reaches subscribers on every node; PUBSUB CHANNELS / NUMSUB / NUMPAT stay
/// node-local, as in Redis Cluster. None has keys, so in cluster mode they run on any node and are never redirected.
/// </summary>
internal static partial class ServerCommands
{
    private const string PubSubGroup = "pubsub";
    private const CommandFlags SubscriptionFlags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.SubscribedContext;
    private const CommandFlags PubSubInfoFlags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale;

    private static readonly Subcommand[] PubSubSubcommands =
    [
        new("CHANNELS", -2, PubSubInfoFlags, "CHANNELS [<pattern>]", "Return the currently active channels matching a <pattern> (default: '*').", "2.8.0"),
        new("NUMPAT", 2, PubSubInfoFlags, "NUMPAT", "Return number of subscriptions to patterns.", "2.8.0"),
        new("NUMSUB", -2, PubSubInfoFlags, "NUMSUB [<channel> ...]", "Return the number of subscribers for the specified channels, excluding pattern subscriptions(default: no channels).", "2.8.0"),
        new("SHARDCHANNELS", -2, PubSubInfoFlags, "SHARDCHANNELS [<pattern>]", "Return the currently active shard level channels matching a <pattern> (default: '*').", "7.0.0"),
        new("SHARDNUMSUB", -2, PubSubInfoFlags, "SHARDNUMSUB [<shardchannel> ...]", "Return the number of subscribers for the specified shard level channel(s)", "7.0.0"),
        new("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, "HELP", "Returns helpful text about the different subcommands.", "6.2.0"),
    ];

    private static void RegisterPubSub(List<CommandDefinition> list)
    {
        list.Add(new CommandDefinition("SUBSCRIBE", -2, SubscriptionFlags, 0, 0, 0, Subscribe, PubSubGroup, "Listens for messages published to channels."));
        list.Add(new CommandDefinition("UNSUBSCRIBE", -1, SubscriptionFlags, 0, 0, 0, Unsubscribe, PubSubGroup, "Stops listening to messages posted to channels."));
        list.Add(new CommandDefinition("PSUBSCRIBE", -2, SubscriptionFlags, 0, 0, 0, PSubscribe, PubSubGroup, "Listens for messages published to channels that match one or more patterns."));
        list.Add(new CommandDefinition("PUNSUBSCRIBE", -1, SubscriptionFlags, 0, 0, 0, PUnsubscribe, PubSubGroup, "Stops listening to messages published to channels that match one or more patterns."));
        list.Add(new CommandDefinition("PUBLISH", 3, PubSubInfoFlags | CommandFlags.Fast, 0, 0, 0, Publish, PubSubGroup, "Posts a message to a channel."));
        list.Add(new CommandDefinition("AC.PUBLISHLOCAL", 3, PubSubInfoFlags | CommandFlags.Fast | CommandFlags.ClusterInternal, 0, 0, 0, PublishLocal, PubSubGroup,
            "Delivers a message another member forwarded to this node's subscribers only (node to node)."));
        list.Add(new CommandDefinition("AC.PUBSUBHELLO", 1, PubSubInfoFlags | CommandFlags.Fast | CommandFlags.ClusterInternal, 0, 0, 0, PubSubHello, PubSubGroup,
            "Opens another member's pub/sub forwarding link (node to node)."));
        list.Add(new CommandDefinition("PUBSUB", -2, CommandFlags.None, 0, 0, 0, PubSubCommand, PubSubGroup, "A container for Pub/Sub commands."));
    }

    private static void Subscribe(ClientSession session, in Request request) => session.Subscribe(request, patterns: false);

    private static void Unsubscribe(ClientSession session, in Request request) => session.Unsubscribe(request, patterns: false);

    private static void PSubscribe(ClientSession session, in Request request) => session.Subscribe(request, patterns: true);

    private static void PUnsubscribe(ClientSession session, in Request request) => session.Unsubscribe(request, patterns: true);

    private static void Publish(ClientSession session, in Request request) => session.Publish(request);

    private static void PublishLocal(ClientSession session, in Request request) => session.PublishLocal(request);

    private static void PubSubHello(ClientSession session, in Request request)
    {
        // exempt from the idle timeout: closing a quiet link would lose the next message sent into it
        session.Info.IsClusterPeer = true;
        session.Writer.WriteOk();
    }

    private static void PubSubCommand(ClientSession session, in Request request)
    {
        if (!TryResolve(session, request, "PUBSUB", PubSubSubcommands, out var sub)) return;
        var writer = session.Writer;
        var registry = session.Node.PubSub;
        switch (sub.Name)
        {
            case "CHANNELS":
            case "SHARDCHANNELS":
                if (request.Count > 3)
                {
                    writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{ClientSession.Printable(request[1], 128)}'. Try PUBSUB HELP.");
                    return;
                }
                // shard channels (SSUBSCRIBE) do not exist on this node: none is ever active
                var channels = sub.Name == "CHANNELS" ? registry.Channels(request.Count == 3 ? request[2] : default, all: request.Count == 2) : [];
                writer.WriteArrayHeader(channels.Count);
                foreach (var channel in channels) writer.WriteBulkString(channel);
                break;
            case "NUMSUB":
            case "SHARDNUMSUB":
                // a flat array in RESP3 too (Redis 7 answers it so, not as a map)
                writer.WriteArrayHeader(2 * (request.Count - 2));
                for (int i = 2; i < request.Count; i++)
                {
                    writer.WriteBulkString(request[i]);
                    writer.WriteInteger(sub.Name == "NUMSUB" ? registry.SubscriberCount(request[i]) : 0);
                }
                break;
            case "NUMPAT":
                writer.WriteInteger(registry.PatternCount);
                break;
            default:
                WriteHelp(session, "PUBSUB", PubSubSubcommands);
                break;
        }
    }
}
