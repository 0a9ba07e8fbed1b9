using System.Text;
using AkkaCache.Protocol;
using AkkaCache.Server.Commands;
using AkkaCache.Server.PubSub;

namespace AkkaCache.Server.Network;

/// <summary>
/// CLIENT TRACKING on a connection: its settings, and the hook after every keyed command that remembers what a tracking
/// connection read and invalidates what any connection wrote. Invalidations reach this connection through its
/// <see cref="Subscriber"/> outbox, drained between replies like pub/sub messages.
/// </summary>
internal sealed partial class ClientSession
{
    private Tracker? _tracker;
    private bool? _cachingNext;     // CLIENT CACHING YES|NO, for the command after it
    private bool? _caching;         // what applies to the command running now

    public Tracker? Tracker => _tracker;

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].</summary>
    public void ClientTracking(in Request request)
    {
        bool on;
        if (Ascii.EqualsIgnoreCase(request[2], "ON"u8)) on = true;
        else if (Ascii.EqualsIgnoreCase(request[2], "OFF"u8)) on = false;
        else
        {
            Writer.WriteError("ERR syntax error");
            return;
        }
        long redirect = -1;
        bool broadcast = false, optIn = false, optOut = false, noLoop = false;
        var prefixes = new List<byte[]>();
        for (int i = 3; i < request.Count; i++)
        {
            var option = request[i];
            bool more = i + 1 < request.Count;
            if (Ascii.EqualsIgnoreCase(option, "REDIRECT"u8) && more)
            {
                if (!RespNumbers.TryParseInt64(request[++i], out redirect))
                {
                    Writer.WriteError("ERR value is not an integer or out of range");
                    return;
                }
                if (redirect == Info.Id)
                {
                    // Redis treats a redirect to oneself as no redirect
                    redirect = -1;
                }
                else if (!_node.Clients.TryGet(redirect, out _))
                {
                    Writer.WriteError("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (Ascii.EqualsIgnoreCase(option, "PREFIX"u8) && more) prefixes.Add(request[++i].ToArray());
            else if (Ascii.EqualsIgnoreCase(option, "BCAST"u8)) broadcast = true;
            else if (Ascii.EqualsIgnoreCase(option, "OPTIN"u8)) optIn = true;
            else if (Ascii.EqualsIgnoreCase(option, "OPTOUT"u8)) optOut = true;
            else if (Ascii.EqualsIgnoreCase(option, "NOLOOP"u8)) noLoop = true;
            else
            {
                Writer.WriteError("ERR syntax error");
                return;
            }
        }
        if (!on)
        {
            StopTracking();
            Writer.WriteOk();
            return;
        }
        string? error =
            prefixes.Count > 0 && !broadcast ? "ERR PREFIX option requires BCAST mode to be enabled"
            : optIn && optOut ? "ERR You can't use both OPTIN and OPTOUT"
            : broadcast && (optIn || optOut) ? "ERR OPTIN and OPTOUT are not compatible with BCAST"
            : _tracker is { } current && (current.Broadcast != broadcast || current.OptIn != optIn || current.OptOut != optOut)
                ? "ERR You can't switch BCAST, OPTIN or OPTOUT mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
            : null;
        if (error is not null)
        {
            Writer.WriteError(error);
            return;
        }
        // ON again with the same mode: the keys remembered so far stay promised, so the tracker stays and takes the new
        // redirect and loop setting, and the prefixes are added
        var subscriber = EnsureSubscriber();
        if (_tracker is { } tracker)
        {
            tracker.Redirect = redirect;
            tracker.NoLoop = noLoop;
            tracker.Prefixes = [.. tracker.Prefixes, .. prefixes];
        }
        else
        {
            tracker = new Tracker(Info, subscriber, broadcast, optIn, optOut) { Redirect = redirect, NoLoop = noLoop, Prefixes = [.. prefixes] };
            _node.Tracking.Enable(tracker);
        }
        _tracker = tracker;
        subscriber.Tracking = true;
        _node.ApplyRemovalListener();
        Writer.WriteOk();
    }

    /// <summary>CLIENT CACHING YES|NO: whether the next command's reads are tracked in OPTIN / OPTOUT mode.</summary>
    public void ClientCaching(in Request request)
    {
        bool yes = Ascii.EqualsIgnoreCase(request[2], "YES"u8);
        if (!yes && !Ascii.EqualsIgnoreCase(request[2], "NO"u8))
        {
            Writer.WriteError("ERR syntax error");
            return;
        }
        if (_tracker is not { } tracker || !(tracker.OptIn || tracker.OptOut))
        {
            Writer.WriteError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (yes && !tracker.OptIn)
        {
            Writer.WriteError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
        if (!yes && !tracker.OptOut)
        {
            Writer.WriteError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
        _cachingNext = yes;
        Writer.WriteOk();
    }

    /// <summary>CLIENT GETREDIR: -1 when not tracking, 0 when tracking without a redirect, else the target's id.</summary>
    public long TrackingRedirect => _tracker is { } tracker ? Math.Max(tracker.Redirect, 0) : -1;

    /// <summary>CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis lists them.</summary>
    public void ClientTrackingInfo()
    {
        var flags = new List<string>();
        if (_tracker is not { } tracker) flags.Add("off");
        else
        {
            flags.Add("on");
            if (tracker.Broadcast) flags.Add("bcast");
            if (tracker.OptIn) flags.Add("optin");
            if (tracker.OptOut) flags.Add("optout");
            if (tracker.NoLoop) flags.Add("noloop");
            if (_cachingNext == true) flags.Add("caching-yes");
            if (_cachingNext == false) flags.Add("caching-no");
        }
        Writer.WriteMapHeader(3);
        Writer.WriteBulkString("flags"u8);
        Writer.WriteArrayHeader(flags.Count);
        foreach (var flag in flags) Writer.WriteBulkString(Encoding.ASCII.GetBytes(flag));
        Writer.WriteBulkString("redirect"u8);
        Writer.WriteInteger(TrackingRedirect);
        Writer.WriteBulkString("prefixes"u8);
        var prefixes = _tracker?.Prefixes ?? [];
        Writer.WriteArrayHeader(prefixes.Length);
        foreach (var prefix in prefixes) Writer.WriteBulkString(prefix);
    }

    /// <summary>CLIENT TRACKING OFF, RESET and a closing connection.</summary>
    public void StopTracking()
    {
        if (_tracker is not { } tracker) return;
        _node.Tracking.Disable(tracker);
        _tracker = null;
        _cachingNext = null;
        tracker.Own.Tracking = false;
        _node.ApplyRemovalListener();
    }

    /// <summary>Called at each dispatch while this connection tracks: CLIENT CACHING applies to one command only.</summary>
    private void TakeCachingFlag()
    {
        _caching = _cachingNext;
        _cachingNext = null;
    }

    /// <summary>
    /// After a keyed command ran (shards still entered, so no write of these keys can slip in between): every key a
    /// write command names is invalidated (over-approximating: a write that changed nothing invalidates too, which
    /// costs a client a refetch, never a stale read), and the keys a tracking connection read are remembered.
    /// </summary>
    private void TrackCommand(CommandDefinition command, in Request request)
    {
        var tracking = _node.Tracking;
        if ((command.Flags & CommandFlags.Write) != 0)
        {
            if ((command.Flags & CommandFlags.AllShards) != 0)
            {
                if (command.Name is "FLUSHALL" or "FLUSHDB") tracking.InvalidateAll();
            }
            else if (command.HasKeys)
            {
                int last = command.LastKeyIndex(request.Count);
                for (int i = command.FirstKey; i <= last; i += command.Step) tracking.Invalidate(request[i], Info);
            }
        }
        if (_tracker is not { Broadcast: false } tracker || !command.HasKeys) return;
        if ((command.Flags & CommandFlags.ReadOnly) == 0 && !ReferenceEquals(command.Handler, GetExHandler)) return;
        if (tracker.OptIn ? _caching != true : tracker.OptOut && _caching == false) return;
        int lastRead = command.LastKeyIndex(request.Count);
        for (int i = command.FirstKey; i <= lastRead; i += command.Step) tracking.Remember(tracker, request[i]);
    }

    private static readonly CommandHandler? GetExHandler = CommandTable.TryGet("GETEX", out var getEx) ? getEx.Handler : null;

    private void OnClosedTracking() => StopTracking();
}
