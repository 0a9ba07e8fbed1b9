using Akka.Actor;
using Akka.Cluster;
using AkkaCache.Cluster.ControlPlane;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Cluster.Membership;

/// <summary>
/// The quorum lease that fences a node: every <c>period</c> it asks every other member whether that member still
/// counts this incarnation as a reachable member, and when a side the split brain resolver would keep has said yes
/// (<see cref="LeaseQuorum"/>), the node may serve until the ask's send time plus the lease. Members answer no once
/// their gossip marks the asker unreachable, and the resolver downs a member only <c>stable-after</c> after that, so a
/// node cut off or paused stops serving before its shards can move; a node resumed from SIGSTOP finds its deadline
/// behind it and asks before it serves again. The same actor answers the other members' asks.
/// </summary>
internal sealed class LeaseKeeper : ReceiveActor, IWithTimers
{
    public const string Name = "akkacache-lease";

    private sealed record Renew;

    private sealed record Round(long SentAt, HashSet<Address> Members, Address? Oldest, HashSet<Address> Granted);

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly LeaseGuard _guard;
    private readonly DowningStrategy _strategy;
    private readonly int _quorumSize;
    private readonly TimeSpan _period;
    private readonly Dictionary<long, Round> _rounds = [];
    private readonly ILogger _logger;
    private long _sequence;
    private bool _held;

    public ITimerScheduler Timers { get; set; } = null!;

    public LeaseKeeper(LeaseGuard guard, DowningStrategy strategy, int quorumSize, TimeSpan period, ILogger logger)
    {
        _logger = logger;
        _guard = guard;
        _strategy = strategy;
        _quorumSize = quorumSize;
        _period = period;
        Receive<Renew>(_ => StartRound());
        Receive<LeasePing>(Answer);
        Receive<LeaseAnswer>(OnAnswer);
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("renew", new Renew(), TimeSpan.Zero, _period);

    /// <summary>Members whose vote counts: those the resolver counts, Up or on their way out.</summary>
    private static bool Votes(Member m) => m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting;

    private void StartRound()
    {
        ReportChange();
        var state = _cluster.State;
        var self = _cluster.SelfMember;
        // a node that is not (or no longer) an Up member has nobody to vouch for it
        if (!Votes(self) || state.Members.All(m => m.UniqueAddress != self.UniqueAddress)) return;
        var members = state.Members.Where(Votes).ToList();
        var round = new Round(_guard.BeforeRequest(), members.Select(m => m.Address).ToHashSet(),
            members.Aggregate((Member?)null, (oldest, m) => oldest is null || m.IsOlderThan(oldest) ? m : oldest)?.Address,
            [self.Address]);
        long sequence = ++_sequence;
        _rounds[sequence] = round;
        // answers older than a lease are of no use any more
        _rounds.Remove(sequence - (long)Math.Ceiling(_guard.LeaseTtl / _period) - 1);
        if (Check(round)) return;
        var ping = new LeasePing(sequence, self.UniqueAddress.Uid);
        foreach (var member in members)
            if (member.Address != self.Address) Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(ping);
    }

    private void OnAnswer(LeaseAnswer answer)
    {
        if (!answer.Granted || !_rounds.TryGetValue(answer.Sequence, out var round)) return;
        round.Granted.Add(Sender.Path.Address);
        Check(round);
    }

    /// <summary>One log line when the node stops serving for want of a quorum, and one when it may serve again.</summary>
    private void ReportChange()
    {
        bool valid = _guard.IsValid;
        if (valid == _held) return;
        _held = valid;
        var members = _cluster.State.Members.Count(Votes);
        int unreachable = _cluster.State.Unreachable.Count;
        if (valid) _logger.LogInformation("quorum lease held: serving ({Members} members, {Unreachable} unreachable)", members, unreachable);
        else _logger.LogWarning("quorum lease lapsed: no side the split brain resolver keeps vouched for this node within {Lease} ({Members} members, {Unreachable} unreachable); refusing requests until one does",
            _guard.LeaseTtl, members, unreachable);
    }

    private bool Check(Round round)
    {
        if (!LeaseQuorum.IsMet(_strategy, round.Members, round.Granted, round.Oldest, _quorumSize)) return false;
        _guard.Confirmed(round.SentAt);
        return true;
    }

    private void Answer(LeasePing ping)
    {
        var state = _cluster.State;
        var asker = Sender.Path.Address;
        bool granted = Votes(_cluster.SelfMember)
            && state.Members.Any(m => m.Address == asker && m.UniqueAddress.Uid == ping.Uid && Votes(m))
            && !state.Unreachable.Any(m => m.Address == asker);
        Sender.Tell(new LeaseAnswer(ping.Sequence, granted));
    }
}
