using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Membership;

/// <summary>A message between the control-plane actors of two nodes; every one has a binary form (<see cref="ControlSerializer"/>).</summary>
public interface IControlMessage;

/// <summary>Asks a member whether it still counts the sender, incarnation <paramref name="Uid"/>, as a reachable member (the quorum lease).</summary>
public sealed record LeasePing(long Sequence, int Uid) : IControlMessage;

/// <summary>The answer to <see cref="LeasePing"/>: <paramref name="Granted"/> when the asker is a member this node sees as reachable.</summary>
public sealed record LeaseAnswer(long Sequence, bool Granted) : IControlMessage;

/// <summary>To the map coordinator: this node finished streaming <paramref name="Shard"/> to <paramref name="Target"/>; repeated until the map shows it.</summary>
public sealed record HandoffReady(int Shard, string Target) : IControlMessage;

/// <summary>To the map coordinator: move every shard off <paramref name="MemberId"/>; repeated while the member drains.</summary>
public sealed record LeaveRequest(string MemberId) : IControlMessage;

/// <summary>To the map coordinator: pin <paramref name="Shard"/> to <paramref name="MemberId"/>, or unpin it when that is null.</summary>
public sealed record PinRequest(int Shard, string? MemberId) : IControlMessage;

/// <summary>The coordinator's answer to <see cref="PinRequest"/>: null when done, else why not (for unpin, "not pinned").</summary>
public sealed record PinReply(string? Error) : IControlMessage;

/// <summary>Operator pins (shard → member id), kept by the coordinator in distributed data beside the map.</summary>
public sealed record ShardPins(IReadOnlyDictionary<int, string> Pins) : IControlMessage
{
    public static readonly ShardPins None = new(new Dictionary<int, string>());
}
