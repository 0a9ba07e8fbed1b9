using System.Text;
using AkkaCache.Core.HotKeys;

namespace AkkaCache.Core.Tests.HotKeys;

public sealed class HotKeyDetectorTests
{
    private const long Start = 1_000_000;

    /// <summary>FNV-1a: the node's hash is seeded per process, and these tests want the same collisions every run.</summary>
    private static uint Hash(ReadOnlySpan<byte> key)
    {
        uint hash = 2166136261;
        foreach (byte b in key) hash = (hash ^ b) * 16777619;
        return hash;
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes("key:" + i);

    private static void Record(HotKeyDetector detector, byte[] key, long nowMs, int times = 1)
    {
        uint hash = Hash(key);
        for (int i = 0; i < times; i++) detector.Record(key, hash, nowMs);
    }

    /// <summary>A Zipf(1) stream over <paramref name="distinct"/> keys, seeded so every run sees the same stream.</summary>
    private static int[] ZipfStream(int length, int distinct, int seed)
    {
        var cumulative = new double[distinct];
        double sum = 0;
        for (int i = 0; i < distinct; i++) cumulative[i] = sum += 1.0 / (i + 1);
        var random = new Random(seed);
        var stream = new int[length];
        for (int n = 0; n < length; n++)
        {
            int at = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            stream[n] = at < 0 ? ~at : at;
        }
        return stream;
    }

    [Fact]
    public void Finds_the_top_keys_of_a_zipf_stream_within_the_sketch_error_bound()
    {
        const int length = 100_000;
        var detector = new HotKeyDetector(windowMs: 1000, Start, width: 1024, capacity: 16);
        var stream = ZipfStream(length, distinct: 5000, seed: 42);
        var keys = Enumerable.Range(0, 5000).Select(Key).ToArray();
        var truth = new int[5000];
        foreach (int k in stream)
        {
            Record(detector, keys[k], Start);
            truth[k]++;
        }

        var found = new List<HotKey>();
        detector.Collect(Start, minRate: 1, shard: 0, found);
        Assert.Equal(16, found.Count);
        var names = found.Select(h => Encoding.ASCII.GetString(h.Key)).ToHashSet();
        // the five heaviest keys by true count are named
        foreach (int k in Enumerable.Range(0, 5000).OrderByDescending(k => truth[k]).Take(5))
            Assert.Contains("key:" + k, names);

        // count-min: never under the truth, over it by at most e/width of the stream (with probability 1 - e^-rows)
        double bound = Math.E / 1024 * length;
        for (int k = 0; k < 20; k++)
        {
            long estimate = detector.Estimate(Hash(keys[k]), Start);
            Assert.InRange(estimate, truth[k], truth[k] + bound);
        }
        // at the start of a window a rate is the count per window (1 s here)
        var top = found.MaxBy(h => h.OpsPerSecond);
        Assert.Equal("key:0", Encoding.ASCII.GetString(top.Key));
        Assert.InRange(top.OpsPerSecond, truth[0], truth[0] + bound);
        Assert.Equal(length, detector.Total);
    }

    [Fact]
    public void A_steady_rate_is_reported_as_such_across_windows()
    {
        var detector = new HotKeyDetector(windowMs: 1000, Start);
        var key = Key(1);
        // 2000 ops/s for 10 s, in 10 ms steps
        for (long t = 0; t < 10_000; t += 10) Record(detector, key, Start + t, times: 20);
        var found = new List<HotKey>();
        detector.Collect(Start + 10_000 - 5, 1, 0, found);
        Assert.InRange(Assert.Single(found).OpsPerSecond, 1900, 2100);
    }

    [Fact]
    public void A_cooled_key_drops_out_as_windows_pass()
    {
        var detector = new HotKeyDetector(windowMs: 1000, Start);
        Record(detector, Key(1), Start, times: 5000);
        var found = new List<HotKey>();
        detector.Collect(Start + 999, 1000, 0, found);
        Assert.Single(found);

        // no more accesses: every window halves it, below the threshold after a few, gone from the candidates after 13
        found.Clear();
        detector.Collect(Start + 3000, 1000, 0, found);
        Assert.Empty(found);
        detector.Collect(Start + 14_000, 1, 0, found);
        Assert.Empty(found);
        Assert.Equal(0, detector.CandidateCount);
        Assert.Equal(0, detector.Total);
    }

    [Fact]
    public void A_key_that_cools_gives_way_to_a_new_hot_one()
    {
        var detector = new HotKeyDetector(windowMs: 1000, Start, capacity: 2);
        Record(detector, Key(1), Start, times: 5000);
        Record(detector, Key(2), Start, times: 4000);
        for (int window = 1; window <= 5; window++) Record(detector, Key(3), Start + window * 1000, times: 3000);
        var found = new List<HotKey>();
        detector.Collect(Start + 5000, 1000, 0, found);
        Assert.Equal("key:3", Encoding.ASCII.GetString(Assert.Single(found).Key));
    }

    [Fact]
    public void Both_thresholds_apply()
    {
        var busy = new HotKeyDetector(1000, Start);
        var quiet = new HotKeyDetector(1000, Start);
        // busy shard: 200 000 ops over many keys, one key with 1500 (above the absolute rate, under 1 % of the node)
        for (int i = 0; i < 1000; i++) Record(busy, Key(i), Start, times: 200);
        Record(busy, Key(5000), Start, times: 1500);
        // quiet shard: a key with 3000 (above both: 1 % of ~204 500 is 2045)
        Record(quiet, Key(6000), Start, times: 3000);
        Record(quiet, Key(6001), Start, times: 500);

        var hot = HotKeyReport.Collect([(0, busy), (1, quiet)], Start, new HotKeyThresholds(0.01, 1000));
        var only = Assert.Single(hot);
        Assert.Equal("key:6000", Encoding.ASCII.GetString(only.Key));
        Assert.Equal(1, only.Shard);

        // with the share lowered, the absolute rate still keeps key:6001 (500/s) out
        hot = HotKeyReport.Collect([(0, busy), (1, quiet)], Start, new HotKeyThresholds(0.001, 1000));
        Assert.Equal(["key:6000", "key:5000"], hot.Select(h => Encoding.ASCII.GetString(h.Key)));
        // with the absolute rate lowered, the share keeps the background keys (200/s, 0.1 %) out
        hot = HotKeyReport.Collect([(0, busy), (1, quiet)], Start, new HotKeyThresholds(0.005, 1));
        Assert.Equal(["key:6000", "key:5000"], hot.Select(h => Encoding.ASCII.GetString(h.Key)));
    }

    [Fact]
    public void Memory_is_bounded_whatever_the_stream()
    {
        var keys = Enumerable.Range(0, 200_000).Select(Key).ToArray();
        var hashes = keys.Select(k => Hash(k)).ToArray();
        HotKeyDetector detector = null!;
        // a fresh detector per window; its sketch's counters exist from the first access on, made outside the window
        long allocated = Infrastructure.Allocations.Least(() =>
        {
            detector = new HotKeyDetector(1000, Start, width: 256, capacity: 16);
            detector.Record(keys[0], hashes[0], Start);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 1; i < keys.Length; i++) detector.Record(keys[i], hashes[i], Start + i / 100);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }, warmups: 1, windows: 3);
        Assert.InRange(detector.CandidateCount, 1, 16);
        // 200 000 distinct keys: only the 16 candidates' key buffers (16 bytes each, reused by later candidates)
        Assert.True(allocated <= 16 * 48, $"allocated {allocated} bytes recording 200 000 distinct keys");
    }

    [Fact]
    public void With_thresholds_background_keys_are_not_named_but_a_hot_one_is()
    {
        var detector = new HotKeyDetector(1000, Start, thresholds: new HotKeyThresholds(0.01, 1000));
        // 50 000 accesses over 5000 keys (10 each): none could be hot, so none is named
        for (int round = 0; round < 10; round++)
            for (int i = 0; i < 5000; i++) Record(detector, Key(i), Start);
        Assert.Equal(0, detector.CandidateCount);
        // a key with 1000 (2 % of the shard, 1000/s) among them is
        for (int i = 0; i < 1000; i++)
        {
            Record(detector, Key(9999), Start);
            Record(detector, Key(i), Start);
        }
        var found = new List<HotKey>();
        detector.Collect(Start, 1000, 0, found);
        Assert.Equal("key:9999", Encoding.ASCII.GetString(Assert.Single(found).Key));
        Assert.InRange(found[0].OpsPerSecond, 1000, 1000 + Math.E / 256 * detector.Total);
    }

    [Fact]
    public void Recording_an_access_does_not_allocate()
    {
        var detector = new HotKeyDetector(1000, Start);
        var keys = Enumerable.Range(0, 64).Select(Key).ToArray();
        var hashes = keys.Select(k => Hash(k)).ToArray();
        for (int i = 0; i < 64; i++) detector.Record(keys[i], hashes[i], Start); // the candidates' buffers exist
        long now = Start;
        Assert.Equal(0, Infrastructure.Allocations.Least(() =>
        {
            for (int round = 0; round < 1000; round++)
            {
                now += 10;
                for (int i = 0; i < 64; i++) detector.Record(keys[i], hashes[i], now);
            }
        }));
    }
}
