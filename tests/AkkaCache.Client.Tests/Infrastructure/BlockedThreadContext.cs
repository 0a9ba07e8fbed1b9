using System.Collections.Concurrent;

namespace AkkaCache.Client.Tests.Infrastructure;

/// <summary>
/// A UI-like SynchronizationContext: one thread, which runs posted work only when it pumps. While it blocks in a sync
/// call nothing posted to it runs, so a call that needs its context to finish would hang there.
/// </summary>
public sealed class BlockedThreadContext : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _posted = new();
    private int _posts;

    /// <summary>How many continuations were posted to this context.</summary>
    public int Posts => Volatile.Read(ref _posts);

    public override void Post(SendOrPostCallback d, object? state)
    {
        Interlocked.Increment(ref _posts);
        _posted.Add((d, state));
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread that has this context; completes when it returns, or fails with
    /// <see cref="TimeoutException"/> when it has not returned within <paramref name="deadline"/> (it would be stuck).
    /// </summary>
    public static async Task<BlockedThreadContext> RunAsync(Action body, TimeSpan deadline)
    {
        var context = new BlockedThreadContext();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            SetSynchronizationContext(context);
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception error)
            {
                done.SetException(error);
            }
        }) { IsBackground = true, Name = "blocked-ui-thread" };
        thread.Start();
        await done.Task.WaitAsync(deadline);
        return context;
    }
}
