using AkkaCache.Server.Network;

namespace AkkaCache.Server.Commands;

/// <summary>MULTI/EXEC/DISCARD/WATCH/UNWATCH with Redis semantics; the state lives in <see cref="ClientSession"/>.</summary>
internal static class TransactionCommands
{
    private const CommandFlags Control = CommandFlags.NotQueued | CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    /// <summary>EXEC enters the shards of its queued commands and watched keys, which the session collects itself.</summary>
    public static readonly CommandDefinition Exec = new("EXEC", 1, Control & ~CommandFlags.Fast, 0, 0, 0, ExecHandler, "transactions",
        "Executes all commands in a transaction.");

    public static void Register(List<CommandDefinition> list)
    {
        list.Add("MULTI", 1, Control, 0, 0, 0, Multi, "transactions", "Starts a transaction.");
        list.Add(Exec);
        list.Add("DISCARD", 1, Control, 0, 0, 0, Discard, "transactions", "Discards a transaction.");
        list.Add("WATCH", -2, Control, 1, -1, 1, Watch, "transactions", "Monitors changes to keys to determine the execution of a transaction.");
        list.Add("UNWATCH", 1, Control, 0, 0, 0, Unwatch, "transactions", "Forgets about watched keys of a transaction.");
    }

    private static void Multi(ClientSession session, in Request request)
    {
        if (session.InTransaction)
        {
            session.Writer.WriteError("ERR MULTI calls can not be nested");
            return;
        }
        session.BeginTransaction();
        session.Writer.WriteOk();
    }

    private static void ExecHandler(ClientSession session, in Request request)
    {
        if (!session.InTransaction)
        {
            session.Writer.WriteError("ERR EXEC without MULTI");
            return;
        }
        session.ExecuteTransaction();
    }

    private static void Discard(ClientSession session, in Request request)
    {
        if (!session.InTransaction)
        {
            session.Writer.WriteError("ERR DISCARD without MULTI");
            return;
        }
        session.DiscardTransaction();
        session.Writer.WriteOk();
    }

    private static void Watch(ClientSession session, in Request request)
    {
        if (session.InTransaction)
        {
            session.Writer.WriteError("ERR WATCH inside MULTI is not allowed");
            return;
        }
        for (int i = 1; i < request.Count; i++) session.Watch(request[i]);
        session.Writer.WriteOk();
    }

    private static void Unwatch(ClientSession session, in Request request)
    {
        session.ClearWatches();
        session.Writer.WriteOk();
    }
}
