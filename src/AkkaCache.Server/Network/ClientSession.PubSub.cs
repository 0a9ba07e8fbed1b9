using AkkaCache.Protocol;
using AkkaCache.Server.Commands;
using AkkaCache.Server.PubSub;

namespace AkkaCache.Server.Network;

/// <summary>
/// Pub/sub on a connection. Publishers encode this client's messages into its <see cref="Subscriber"/> outbox; only this
/// session moves them into its send buffer, always between two replies: at every flush, when a subscribed connection
/// wakes up for them while it waits for requests, and right after an unsubscription, so that a channel's messages
/// never follow the confirmation of leaving it.
/// </summary>
internal sealed partial class ClientSession
{
    private Subscriber? _subscriber;        // created by the first (P)SUBSCRIBE, kept for the connection's life
    private bool _executingTransaction;     // replies are going into EXEC's array: messages wait until it is complete

    /// <summary>Subscribed to a channel or pattern: a RESP2 connection may then run only the commands of that context.</summary>
    public bool IsSubscribed => _subscriber is { Count: > 0 };

    private Subscriber EnsureSubscriber()
    {
        if (_subscriber is null)
        {
            _subscriber = new Subscriber(Info.Kill, Protocol);
            Info.Subscriber = _subscriber;
        }
        return _subscriber;
    }

    /// <summary>SUBSCRIBE / PSUBSCRIBE: a confirmation per name carrying the connection's count of subscriptions after it.</summary>
    public void Subscribe(in Request request, bool patterns)
    {
        var subscriber = EnsureSubscriber();
        var kind = patterns ? "psubscribe"u8 : "subscribe"u8;
        for (int i = 1; i < request.Count; i++)
        {
            _node.PubSub.Subscribe(subscriber, request[i], patterns);
            WriteSubscriptionReply(kind, request[i], isNull: false, subscriber.Count);
        }
    }

    /// <summary>UNSUBSCRIBE / PUNSUBSCRIBE [name ...]: without names, from all (one confirmation each, or one with a null name when there were none).</summary>
    public void Unsubscribe(in Request request, bool patterns)
    {
        var kind = patterns ? "punsubscribe"u8 : "unsubscribe"u8;
        var subscriber = _subscriber;
        if (request.Count == 1)
        {
            if (subscriber is null)
            {
                WriteSubscriptionReply(kind, default, isNull: true, 0);
                return;
            }
            int count = subscriber.Count;
            var names = _node.PubSub.UnsubscribeAll(subscriber, patterns);
            DrainMessages();
            if (names.Count == 0) WriteSubscriptionReply(kind, default, isNull: true, count);
            foreach (var name in names) WriteSubscriptionReply(kind, name, isNull: false, --count);
            return;
        }
        // all left before the drain: messages that came before go out ahead of every confirmation
        var counts = new int[request.Count];
        for (int i = 1; i < request.Count; i++)
        {
            if (subscriber is not null) _node.PubSub.Unsubscribe(subscriber, request[i], patterns);
            counts[i] = subscriber?.Count ?? 0;
        }
        DrainMessages();
        for (int i = 1; i < request.Count; i++) WriteSubscriptionReply(kind, request[i], isNull: false, counts[i]);
    }

    /// <summary>
    /// PUBLISH: delivered here and, in cluster mode, forwarded to every other member. The count is this node's receivers
    /// only, as Redis Cluster answers (the other nodes deliver later, asynchronously). A subscriber publishing to itself
    /// gets the message before the count, as from Redis.
    /// </summary>
    public void Publish(in Request request)
    {
        _node.PubSubForwarder?.Forward(request[1], request[2]);
        PublishLocal(request);
    }

    /// <summary>AC.PUBLISHLOCAL: a message another member forwarded; delivered to this node's subscribers only.</summary>
    public void PublishLocal(in Request request)
    {
        int receivers = _node.PubSub.Publish(request[1], request[2], NowMs);
        DrainMessages();
        Writer.WriteInteger(receivers);
    }

    /// <summary>RESET and a closing connection: every subscription dropped without confirmations.</summary>
    public void LeaveAllSubscriptions()
    {
        if (_subscriber is not { } subscriber) return;
        _node.PubSub.UnsubscribeAll(subscriber, patterns: false);
        _node.PubSub.UnsubscribeAll(subscriber, patterns: true);
        DrainMessages();
    }

    private void WriteSubscriptionReply(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, bool isNull, int count)
    {
        Writer.WritePushHeader(3);
        Writer.WriteBulkString(kind);
        if (isNull) Writer.WriteNull();
        else Writer.WriteBulkString(name);
        Writer.WriteInteger(count);
    }

    /// <summary>Moves this client's waiting messages behind the replies written so far (not inside EXEC's reply).</summary>
    private void DrainMessages()
    {
        if (_subscriber is { } subscriber && !_executingTransaction) subscriber.DrainTo(_connection);
    }

    /// <summary>RESP2 subscribed context: the refusal Redis gives any other command (subcommands named as "config|get").</summary>
    private bool RefusedWhileSubscribed(CommandDefinition command, in Request request)
    {
        if ((command.Flags & CommandFlags.SubscribedContext) != 0 || Writer.Version != RespVersion.Resp2 || !IsSubscribed) return false;
        string name = command.LowerName;
        if (ServerCommands.SubcommandsOf(command.Name) is { } subcommands)
        {
            ServerCommands.Subcommand? sub = null;
            if (request.Count > 1)
            {
                foreach (var candidate in subcommands)
                    if (System.Text.Ascii.EqualsIgnoreCase(request[1], candidate.Name)) sub = candidate;
            }
            // an unknown subcommand or a wrong arity: its own error comes first, as in Redis (the handler refuses it)
            if (sub is null || !sub.ArityMatches(request.Count)) return false;
            name += "|" + sub.Name.ToLowerInvariant();
        }
        Writer.WriteError($"ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
        if (InTransaction) TransactionFailed = true;
        return true;
    }

    /// <summary>Sends what the batch wrote, followed by the messages waiting for this client.</summary>
    private ValueTask FlushAsync(CancellationToken cancellation)
    {
        if (_subscriber is { } subscriber) return FlushWithMessagesAsync(subscriber, cancellation);
        return _connection.HasPendingReplies ? _connection.SendAsync(cancellation) : ValueTask.CompletedTask;
    }

    private async ValueTask FlushWithMessagesAsync(Subscriber subscriber, CancellationToken cancellation)
    {
        subscriber.DrainTo(_connection);
        if (!_connection.HasPendingReplies) return;
        var send = _connection.SendAsync(cancellation);
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
        }
        else
        {
            // a client reading slowly: what waits in the send buffer counts against its output limit as well
            subscriber.Sending(_connection.PendingReplyBytes);
            await send;
        }
        subscriber.Sent();
    }

    /// <summary>
    /// Waits for requests like <see cref="ClientConnection.ReceiveAsync"/>, sending this client's messages whenever
    /// they arrive meanwhile. The receive stays pending across those sends (a socket sends and receives at once).
    /// </summary>
    private async ValueTask<int> ReceiveWhileSubscribedAsync(Subscriber subscriber, long queryBufferLimit, CancellationToken cancellation)
    {
        var receive = _connection.ReceiveAsync(queryBufferLimit, cancellation).AsTask();
        try
        {
            while (!receive.IsCompleted)
            {
                var pending = subscriber.WhenPending();
                if (!pending.IsCompleted) await Task.WhenAny(receive, pending);
                if (!pending.IsCompleted) continue;
                // cut off by its output limit: the socket is shut down and the receive ends
                if (subscriber.IsClosed) break;
                await FlushAsync(cancellation);
            }
            return await receive;
        }
        finally
        {
            // left early by a failed send: the receive fails once the socket closes, and nobody awaits it any more
            if (!receive.IsCompleted)
                _ = receive.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void OnClosedPubSub()
    {
        if (_subscriber is not { } subscriber) return;
        _node.PubSub.UnsubscribeAll(subscriber, patterns: false);
        _node.PubSub.UnsubscribeAll(subscriber, patterns: true);
        subscriber.Close();
    }
}
