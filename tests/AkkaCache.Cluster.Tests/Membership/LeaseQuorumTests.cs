using Akka.Actor;
using AkkaCache.Cluster.Membership;

namespace AkkaCache.Cluster.Tests.Membership;

public sealed class LeaseQuorumTests
{
    private static readonly Address A = new("akka.tcp", "c", "127.0.0.1", 1001), B = new("akka.tcp", "c", "127.0.0.1", 1002),
        C = new("akka.tcp", "c", "127.0.0.1", 1003), D = new("akka.tcp", "c", "127.0.0.1", 1004);

    private static bool Met(DowningStrategy strategy, Address[] members, Address[] granted, Address? oldest = null, int quorum = 0) =>
        LeaseQuorum.IsMet(strategy, members, granted, oldest ?? members[0], quorum);

    [Fact]
    public void Keep_majority_needs_more_than_half_of_the_members()
    {
        Assert.True(Met(DowningStrategy.KeepMajority, [A, B, C], [A, B]));
        Assert.False(Met(DowningStrategy.KeepMajority, [A, B, C], [C]));
        Assert.True(Met(DowningStrategy.KeepMajority, [A], [A]));
    }

    [Fact]
    public void An_even_split_keeps_the_half_with_the_lowest_address_as_the_resolver_does()
    {
        Assert.True(Met(DowningStrategy.KeepMajority, [A, B, C, D], [A, D]));
        Assert.False(Met(DowningStrategy.KeepMajority, [A, B, C, D], [B, C]));
        Assert.False(Met(DowningStrategy.KeepMajority, [B, A], [B]));
        // down-all has no tie-break: both halves go
        Assert.False(Met(DowningStrategy.DownAll, [A, B, C, D], [A, D]));
    }

    [Fact]
    public void Votes_of_non_members_do_not_count()
    {
        Assert.False(Met(DowningStrategy.KeepMajority, [A, B, C], [C, D]));
    }

    [Fact]
    public void Static_quorum_counts_votes_against_the_quorum_size()
    {
        Assert.True(Met(DowningStrategy.StaticQuorum, [A, B, C, D], [B, C], quorum: 2));
        Assert.False(Met(DowningStrategy.StaticQuorum, [A, B, C, D], [B], quorum: 2));
    }

    [Fact]
    public void Keep_oldest_needs_the_oldest_and_not_the_oldest_alone()
    {
        Assert.True(Met(DowningStrategy.KeepOldest, [A, B, C], [A, C], oldest: A));
        Assert.False(Met(DowningStrategy.KeepOldest, [A, B, C], [B, C], oldest: A));
        // down-if-alone: an oldest cut off alone is the side the resolver downs
        Assert.False(Met(DowningStrategy.KeepOldest, [A, B, C], [A], oldest: A));
        Assert.True(Met(DowningStrategy.KeepOldest, [A], [A], oldest: A));
    }
}
