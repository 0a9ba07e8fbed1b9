namespace AkkaCache.Cluster.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline instead of sleeping a guessed time.</summary>
public static class Poll
{
    /// <summary>Generous: these tests share two cores with other builds and test runs.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(20);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }
}
