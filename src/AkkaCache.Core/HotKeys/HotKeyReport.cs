namespace AkkaCache.Core.HotKeys;

/// <summary>When a key counts as hot: both thresholds, so a quiet node does not call its busiest key hot, nor a busy node a key with a crumb of its traffic.</summary>
public sealed record HotKeyThresholds(double Share, long MinRate)
{
    public static readonly HotKeyThresholds Default = new(0.01, 1000);

    /// <summary>The least rate a key needs on a node running at <paramref name="nodeRate"/> (at least 1: an idle key is never hot).</summary>
    public long Floor(long nodeRate) => Math.Max(Math.Max(MinRate, (long)Math.Ceiling(Share * nodeRate)), 1);
}

public static class HotKeyReport
{
    /// <summary>
    /// The hot keys of the given detectors, hottest first. The caller must have entered every shard whose detector it
    /// passes; <paramref name="detectors"/> pairs a shard index with its detector.
    /// </summary>
    public static List<HotKey> Collect(IReadOnlyList<(int Shard, HotKeyDetector Detector)> detectors, long nowMs, HotKeyThresholds thresholds)
    {
        long nodeRate = 0;
        foreach (var (_, detector) in detectors) nodeRate += detector.TotalRate(nowMs);
        long floor = thresholds.Floor(nodeRate);
        var hot = new List<HotKey>();
        foreach (var (shard, detector) in detectors) detector.Collect(nowMs, floor, shard, hot);
        hot.Sort(static (a, b) => b.OpsPerSecond != a.OpsPerSecond ? b.OpsPerSecond.CompareTo(a.OpsPerSecond) : a.Shard.CompareTo(b.Shard));
        return hot;
    }

    /// <summary>How many keys are hot, read without entering the shards (see <see cref="HotKeyDetector.PeekCountAtLeast"/>).</summary>
    public static int PeekCount(IReadOnlyList<HotKeyDetector> detectors, long nowMs, HotKeyThresholds thresholds)
    {
        long nodeRate = 0;
        foreach (var detector in detectors) nodeRate += detector.PeekTotalRate(nowMs);
        long floor = thresholds.Floor(nodeRate);
        int count = 0;
        foreach (var detector in detectors) count += detector.PeekCountAtLeast(nowMs, floor);
        return count;
    }
}
