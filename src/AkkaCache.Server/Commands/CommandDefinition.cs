using AkkaCache.Protocol;

namespace AkkaCache.Server.Commands;

[Flags]
internal enum CommandFlags
{
    None = 0,
    Write = 1,
    ReadOnly = 2,
    /// <summary>May grow memory: refused with -OOM under noeviction when the node is at its budget.</summary>
    DenyOom = 4,
    Admin = 8,
    /// <summary>Allowed before AUTH.</summary>
    NoAuth = 16,
    /// <summary>Runs immediately even inside MULTI (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).</summary>
    NotQueued = 32,
    /// <summary>Needs every shard of the node entered (FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY).</summary>
    AllShards = 64,
    Fast = 128,
    Loading = 256,
    Stale = 512,
    PubSub = 1024,
    /// <summary>Node-to-node (replication): never redirected, never replicated again.</summary>
    ClusterInternal = 2048,
    /// <summary>Argument 1 is the index of the shard the command runs on.</summary>
    ShardArgument = 4096,
    /// <summary>May run on a RESP2 connection in subscribed mode ((P)SUBSCRIBE, (P)UNSUBSCRIBE, PING, QUIT, RESET).</summary>
    SubscribedContext = 8192,
    /// <summary>A write that changes no data replicas hold (AC.GETL's lease): nothing to replicate.</summary>
    NotReplicated = 16384,
    /// <summary>A read any node may answer from a hot-key copy (GET, MGET, EXISTS, TTL, PTTL).</summary>
    HotCopyRead = 32768,
}

/// <summary>The arguments of one request: ranges into the receive buffer, read without copying.</summary>
internal readonly ref struct Request(ReadOnlySpan<byte> source, RespArguments arguments)
{
    private readonly ReadOnlySpan<byte> _source = source;

    public int Count => arguments.Count;

    public ReadOnlySpan<byte> this[int index] => arguments.Get(_source, index);

    public ReadOnlySpan<byte> Source => _source;
}

internal delegate void CommandHandler(Network.ClientSession session, in Request request);

/// <summary>
/// One command: its Redis arity (negative = at least that many), flags and key positions (as in COMMAND INFO:
/// first key, last key (negative counts from the end), step), which decide the shards the command runs on.
/// </summary>
internal sealed record CommandDefinition(
    string Name,
    int Arity,
    CommandFlags Flags,
    int FirstKey,
    int LastKey,
    int Step,
    CommandHandler Handler,
    string Group,
    string Summary)
{
    public string LowerName { get; } = Name.ToLowerInvariant();

    /// <summary>Position in <see cref="CommandTable.ByIndex"/>, set when the table is built.</summary>
    public int Index { get; internal set; } = -1;

    public bool HasKeys => FirstKey > 0;

    public bool ArityMatches(int count) => Arity >= 0 ? count == Arity : count >= -Arity;

    /// <summary>The index of the last key argument for a request of <paramref name="count"/> arguments.</summary>
    public int LastKeyIndex(int count) => LastKey >= 0 ? Math.Min(LastKey, count - 1) : count + LastKey;

    public IEnumerable<string> FlagNames()
    {
        if (Flags.HasFlag(CommandFlags.Write)) yield return "write";
        if (Flags.HasFlag(CommandFlags.ReadOnly)) yield return "readonly";
        if (Flags.HasFlag(CommandFlags.DenyOom)) yield return "denyoom";
        if (Flags.HasFlag(CommandFlags.Admin)) yield return "admin";
        if (Flags.HasFlag(CommandFlags.PubSub)) yield return "pubsub";
        if (Flags.HasFlag(CommandFlags.NoAuth)) yield return "no_auth";
        if (Flags.HasFlag(CommandFlags.Loading)) yield return "loading";
        if (Flags.HasFlag(CommandFlags.Stale)) yield return "stale";
        if (Flags.HasFlag(CommandFlags.Fast)) yield return "fast";
    }
}
