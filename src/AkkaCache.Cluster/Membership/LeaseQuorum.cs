using Akka.Actor;

namespace AkkaCache.Cluster.Membership;

/// <summary>The split brain resolver's strategies (<c>--split-brain-resolver</c>).</summary>
public enum DowningStrategy
{
    KeepMajority,
    StaticQuorum,
    KeepOldest,
    DownAll,
}

/// <summary>
/// Whether the members that vouched for this node form a side the split brain resolver would keep. A node serves only
/// while such a side vouched for it recently, so a node cut off on a side the resolver downs has stopped serving before
/// the other side takes its shards over. The rule mirrors the resolver's, conservatively: where the resolver might
/// keep either side, the node stops.
/// </summary>
public static class LeaseQuorum
{
    /// <param name="strategy">The resolver's strategy.</param>
    /// <param name="members">Every member that counts (Up, Leaving, Exiting), this node included.</param>
    /// <param name="granted">The members that vouched for this node, this node included.</param>
    /// <param name="oldest">The oldest of <paramref name="members"/>.</param>
    /// <param name="quorumSize">static-quorum's quorum-size.</param>
    public static bool IsMet(DowningStrategy strategy, IReadOnlyCollection<Address> members, IReadOnlyCollection<Address> granted, Address? oldest, int quorumSize)
    {
        int n = members.Count;
        int votes = granted.Count(members.Contains);
        if (n == 0 || votes == 0) return false;
        switch (strategy)
        {
            case DowningStrategy.StaticQuorum:
                return votes >= quorumSize;
            case DowningStrategy.KeepOldest:
                // the resolver's down-if-alone: an oldest member cut off alone is the side that goes
                return oldest is not null && granted.Contains(oldest) && (votes > 1 || n == 1);
            default:
                if (2 * votes > n) return true;
                // an even split: keep-majority keeps the half with the lowest address
                if (2 * votes == n && strategy == DowningStrategy.KeepMajority)
                {
                    var lowest = members.Min(AddressOrder.Instance);
                    return lowest is not null && granted.Contains(lowest);
                }
                return false;
        }
    }

    /// <summary>Akka's member ordering by address (host, then port), which keep-majority's tie-break uses.</summary>
    private sealed class AddressOrder : IComparer<Address>
    {
        public static readonly AddressOrder Instance = new();

        public int Compare(Address? x, Address? y) => Address.Comparer.Compare(x, y);
    }
}
