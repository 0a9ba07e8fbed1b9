using System.Globalization;
using System.Runtime.CompilerServices;
using AkkaCache.Client;
using AkkaCache.Client.Transport;
using AkkaCache.Hosting;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;

namespace AkkaCache.Benchmarks.Client;

/// <summary>
/// Bytes allocated per client call, process-wide (client and node together), by GC.GetTotalAllocatedBytes over many
/// calls after a warm-up: one caller awaiting call after call, then 50 concurrent callers sharing the connection.
/// BenchmarkDotNet's memory diagnoser cannot give this figure for a ValueTask backed by a pooled source: its harness
/// blocks on the call, which converts it to a Task. Prints CSV: transport,callers,operation,bytes_per_call.
/// </summary>
public static class ClientAllocationCommand
{
    private const int Calls = 200_000;

    public static async Task<int> RunAsync(string[] args)
    {
        await using var node = await NodeServer.StartAsync(new NodeOptions { Port = 0 });
        Console.WriteLine("transport,callers,operation,bytes_per_call");
        foreach (var transport in new[] { "tcp", "inproc" })
        {
            var options = AkkaCacheClientOptions.Parse(node.AnnouncedEndPoint);
            if (transport == "inproc") options.InProcessNode = new EmbeddedNode(node);
            await using var cache = await AkkaCacheClient.ConnectAsync(options);
            byte[] key = "alloc:key"u8.ToArray(), missing = "alloc:missing"u8.ToArray(), counter = "alloc:counter"u8.ToArray();
            var value = new byte[64];
            await cache.SetAsync(key, value);
            var operations = new (string Name, Func<ValueTask> Call)[]
            {
                // the client's ValueTask<T> becomes the ValueTask the loop awaits through a pooled lambda: a plain async
                // lambda would allocate its own state machine on every call and blur the client's figure
                ("GET hit (64 B value)", [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] async ValueTask () => await cache.GetAsync(key)),
                ("GET miss", [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] async ValueTask () => await cache.GetAsync(missing)),
                ("SET 64 B", () => cache.SetAsync(key, value)),
                ("INCR", [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] async ValueTask () => await cache.IncrementAsync(counter)),
            };
            foreach (int callers in new[] { 1, 50 })
            {
                foreach (var (name, call) in operations)
                {
                    await RunAsync(call, callers, Calls / 4); // warm-up: JIT tiers, pools filled
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    await RunAsync(call, callers, Calls);
                    long after = GC.GetTotalAllocatedBytes(precise: true);
                    // the callers' own tasks (one per caller, not per call) are part of the figure; they are negligible
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{transport},{callers},{name},{(after - before) / (double)Calls:F1}"));
                }
            }
        }
        return 0;
    }

    private static Task RunAsync(Func<ValueTask> call, int callers, int calls) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < calls / callers; i++) await call();
        })));

    private sealed class EmbeddedNode(NodeServer server) : IInProcessNode
    {
        public string? EndPoint => server.AnnouncedEndPoint;

        public ValueTask<INodeTransport> ConnectAsync(CancellationToken cancellation) =>
            ValueTask.FromResult<INodeTransport>(new InProcessNodeTransport(server.ConnectInProcess()));
    }
}
