namespace AkkaCache.Core.Tests.Infrastructure;

/// <summary>
/// Bytes a piece of code allocates, measured so that only the code's own allocations count: after warm-up runs past
/// tiered compilation (on-stack replacement and the tier-1 rejit allocate a few KB on the calling thread), the
/// smallest of several windows. An allocation the code really makes shows in every window, so it still fails.
/// </summary>
internal static class Allocations
{
    /// <summary>The least of <paramref name="windows"/> runs of <paramref name="run"/>, each measured whole.</summary>
    public static long Least(Action run, int warmups = 3, int windows = 5) => Least(() =>
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        run();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }, warmups, windows);

    /// <summary>The least of <paramref name="windows"/> runs of <paramref name="measured"/>, which returns the bytes of its own window.</summary>
    public static long Least(Func<long> measured, int warmups = 3, int windows = 5)
    {
        for (int i = 0; i < warmups; i++) measured();
        long least = long.MaxValue;
        for (int i = 0; i < windows; i++) least = Math.Min(least, measured());
        return least;
    }
}
