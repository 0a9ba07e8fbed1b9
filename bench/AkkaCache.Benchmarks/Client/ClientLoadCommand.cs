using System.Diagnostics;
using System.Globalization;
using AkkaCache.Client;

namespace AkkaCache.Benchmarks.Client;

/// <summary>
/// The .NET client's closed-loop load, shaped like redis-benchmark so the two compare: T tasks share one client (one
/// multiplexed connection by default), each awaiting one call after the other on random keys of a fixed keyspace.
/// Prints one CSV line: test,tasks,rps,p50_ms,p99_ms. With --hot-share S, a share S of the calls go to one key
/// (key:000000000000), the hot-key case; --warmup-requests runs that many calls first, unmeasured (so a hot key is
/// promoted and the client has learned it before the measurement).
/// </summary>
public static class ClientLoadCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string endPoint = "127.0.0.1:6379", test = "get";
        int tasks = 50, requests = 200_000, valueSize = 64, keys = 100_000, connections = 1, warmup = 0;
        double hotShare = 0;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--endpoint": endPoint = args[i + 1]; break;
                case "--test": test = args[i + 1]; break;
                case "--tasks": tasks = Parse(args[i + 1]); break;
                case "--requests": requests = Parse(args[i + 1]); break;
                case "--value-size": valueSize = Parse(args[i + 1]); break;
                case "--keys": keys = Parse(args[i + 1]); break;
                case "--connections": connections = Parse(args[i + 1]); break;
                case "--hot-share": hotShare = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--warmup-requests": warmup = Parse(args[i + 1]); break;
                default:
                    Console.Error.WriteLine($"unknown switch {args[i]}");
                    return 2;
            }
        }
        var options = AkkaCacheClientOptions.Parse(endPoint);
        options.ConnectionsPerNode = connections;
        await using var cache = await AkkaCacheClient.ConnectAsync(options);
        // keys as redis-benchmark -r names them, pre-encoded so the loop measures the client, not string formatting
        var keyBytes = Enumerable.Range(0, keys).Select(k => (CacheKey)System.Text.Encoding.ASCII.GetBytes($"key:{k:D12}")).ToArray();
        var value = new byte[valueSize];
        Array.Fill(value, (byte)'x');
        var latencies = new long[tasks][];
        if (warmup > 0) await RunLoopsAsync(warmup / tasks, seed: 1000);
        int perTask = requests / tasks;
        var watch = Stopwatch.StartNew();
        await RunLoopsAsync(perTask, seed: 0);
        var elapsed = watch.Elapsed;

        Task RunLoopsAsync(int perTask, int seed) => Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            var random = new Random(seed + t);
            var mine = latencies[t] = new long[perTask];
            for (int n = 0; n < perTask; n++)
            {
                var key = hotShare > 0 && random.NextDouble() < hotShare ? keyBytes[0] : keyBytes[random.Next(keys)];
                long start = Stopwatch.GetTimestamp();
                if (test == "set") await cache.SetAsync(key, value);
                else await cache.GetAsync(key);
                mine[n] = Stopwatch.GetTimestamp() - start;
            }
        })));
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Ms(double quantile) => all[(int)Math.Min(all.Length - 1, quantile * all.Length)] * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{test.ToUpperInvariant()},{tasks},{all.Length / elapsed.TotalSeconds:F0},{Ms(0.50):F3},{Ms(0.99):F3}"));
        return 0;
    }

    private static int Parse(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
