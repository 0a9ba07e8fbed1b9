using System.Diagnostics;
using System.Globalization;
using AkkaCache.Client;
using AkkaCache.Server;
using AkkaCache.Server.Configuration;

namespace AkkaCache.Benchmarks.Client;

/// <summary>
/// A cache stampede: N callers miss one key at the same moment, each wanting a value that takes the backing store
/// --load-ms to produce. Counts the backing-store loads with leases (GetOrCreateAsync: AC.GETL / AC.SETL) and
/// without (GET miss, load, SET), against a node started in process. Prints one CSV line per mode:
/// mode,callers,load_ms,factory_calls,elapsed_ms.
/// </summary>
public static class StampedeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        int callers = 1000, loadMs = 50;
        string? endPoint = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--callers": callers = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--load-ms": loadMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--endpoint": endPoint = args[i + 1]; break;
                default:
                    Console.Error.WriteLine($"unknown switch {args[i]}");
                    return 2;
            }
        }
        await using var node = endPoint is null ? await NodeServer.StartAsync(new NodeOptions { Port = 0 }) : null;
        await using var client = await AkkaCacheClient.ConnectAsync(endPoint ?? $"127.0.0.1:{node!.Port}");
        var cache = client.WithTimeout(TimeSpan.FromSeconds(60));
        var ttl = TimeSpan.FromMinutes(5);
        string run = Guid.NewGuid().ToString("N");

        Console.WriteLine("mode,callers,load_ms,factory_calls,elapsed_ms");
        await RunMode("without-leases", async (key, factory) =>
        {
            if (await cache.GetAsync(key) is { } hit) return hit;
            var value = await factory(CancellationToken.None);
            await cache.SetAsync(key, value, ttl);
            return value;
        });
        await RunMode("with-leases", (key, factory) => cache.GetOrCreateAsync(key, factory, ttl));
        return 0;

        async Task RunMode(string mode, Func<string, Func<CancellationToken, ValueTask<byte[]>>, ValueTask<byte[]>> get)
        {
            string key = $"stampede:{mode}:{run}";
            int calls = 0;
            async ValueTask<byte[]> Load(CancellationToken cancellation)
            {
                Interlocked.Increment(ref calls);
                await Task.Delay(loadMs, cancellation); // the backing store's latency
                return new byte[64];
            }
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                await get(key, Load);
            })).ToArray();
            var watch = Stopwatch.StartNew();
            start.SetResult();
            await Task.WhenAll(tasks);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode},{callers},{loadMs},{calls},{watch.Elapsed.TotalMilliseconds:F0}"));
        }
    }
}
