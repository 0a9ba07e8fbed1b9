using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using AkkaCache.Core.HotKeys;
using AkkaCache.Core.Storage;

namespace AkkaCache.Core.Actors;

/// <summary>A message to a shard actor, handled while the actor processes nothing else.</summary>
public interface IShardMessage
{
    /// <summary>
    /// Handles the message on the actor. Returns true when the actor stays entered on behalf of the sender
    /// (a hand-off: the sender runs its work and calls <see cref="ShardActor.Exit"/>), false to go on with the mailbox.
    /// </summary>
    bool Handle(ShardActor shard);
}

/// <summary>
/// The unit of ownership: one shard's entries, touched by one message at a time.
/// Messages queue in a mailbox drained on the thread pool, Akka-dispatcher style (a bounded number per turn).
/// When the actor is idle and its mailbox empty, a caller may instead run its message inline on its own thread
/// (<see cref="TryEnter"/> .. <see cref="Exit"/>): the same one-at-a-time contract without the thread hop, which is
/// what the request path uses (measured in bench/README.md).
/// </summary>
public sealed class ShardActor : IThreadPoolWorkItem
{
    /// <summary>Messages handled per turn before the thread is given back to the pool.</summary>
    private const int Throughput = 64;

    private readonly ConcurrentQueue<IShardMessage> _mailbox = new();
    private int _entered;

    public ShardActor(int index, EntryTable table)
    {
        Index = index;
        Table = table;
    }

    public int Index { get; }

    /// <summary>The shard's state: only whoever has entered the actor may touch it.</summary>
    public EntryTable Table { get; }

    /// <summary>The shard's access counter for hot-key detection; null when detection is off. Same rule as <see cref="Table"/>.</summary>
    public HotKeyDetector? HotKeys { get; init; }

    public bool IsIdle => Volatile.Read(ref _entered) == 0 && _mailbox.IsEmpty;

    /// <summary>Enters the actor on the caller's thread if it is idle and nothing is queued ahead (keeps mailbox order).</summary>
    public bool TryEnter() => _mailbox.IsEmpty && Interlocked.CompareExchange(ref _entered, 1, 0) == 0;

    /// <summary>Leaves the actor after <see cref="TryEnter"/> or a hand-off; queued messages then run on the thread pool.</summary>
    public void Exit()
    {
        Volatile.Write(ref _entered, 0);
        if (!_mailbox.IsEmpty) ScheduleIfIdle();
    }

    public void Tell(IShardMessage message)
    {
        _mailbox.Enqueue(message);
        ScheduleIfIdle();
    }

    /// <summary>Completes when the actor is entered on behalf of <paramref name="waiter"/>; the caller must then <see cref="Exit"/>.</summary>
    public ValueTask EnterAsync(ShardEntryWaiter waiter)
    {
        var task = waiter.Prepare();
        Tell(waiter);
        return task;
    }

    private void ScheduleIfIdle()
    {
        if (Interlocked.CompareExchange(ref _entered, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        for (int handled = 0; handled < Throughput; handled++)
        {
            if (!_mailbox.TryDequeue(out var message)) break;
            if (message.Handle(this)) return; // handed off: the receiver exits
        }
        Exit();
    }
}

/// <summary>
/// A reusable message that enters a shard on behalf of an awaiting caller (one per session, so asking costs no allocation).
/// Its continuation runs synchronously on the actor's turn, so the caller's work runs on the actor's thread.
/// </summary>
public sealed class ShardEntryWaiter : IShardMessage, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };

    internal ValueTask Prepare()
    {
        _core.Reset();
        return new ValueTask(this, _core.Version);
    }

    bool IShardMessage.Handle(ShardActor shard)
    {
        _core.SetResult(true);
        return true;
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
