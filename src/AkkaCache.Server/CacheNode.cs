using AkkaCache.Core;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Network;

namespace AkkaCache.Server;

/// <summary>A standalone node: the engine, its settings as CONFIG sees them, and its clients.</summary>
internal sealed class CacheNode : IDisposable
{
    public CacheNode(NodeOptions options, TimeProvider time)
    {
        options.Validate();
        Options = options;
        Time = time;
        Engine = new CacheEngine(new CacheEngineOptions
        {
            ShardCount = options.Shards,
            MaxMemory = options.MaxMemoryBytes,
            MaxMemoryPolicy = options.MaxMemoryPolicyKind,
            Hz = options.Hz,
        }, time);
        Config = new ConfigStore(this);
        RequestLimits = new RespRequestLimits((int)options.ProtoMaxBulkLenBytes, options.MaxArguments, 64 * 1024);
        InlineWhenIdle = options.InlineWhenIdle;
        StartedMs = NowMs;
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
    }

    public NodeOptions Options { get; }
    public TimeProvider Time { get; }
    public CacheEngine Engine { get; }
    public ConfigStore Config { get; }
    public ClientRegistry Clients { get; } = new();
    public bool InlineWhenIdle { get; }
    public long StartedMs { get; }
    public string RunId { get; }

    /// <summary>The port actually listened on (differs from the setting when that is 0).</summary>
    public int Port { get; set; }

    public RespRequestLimits RequestLimits { get; set; }

    public long NowMs => Engine.NowMs;

    private ITimer? _idleClients;

    public void Start()
    {
        Engine.Start();
        _idleClients = Time.CreateTimer(static state =>
        {
            var node = (CacheNode)state!;
            node.Clients.CloseIdle(node.NowMs, node.Options.Timeout);
        }, this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public void Dispose()
    {
        _idleClients?.Dispose();
        Engine.Dispose();
    }
}
