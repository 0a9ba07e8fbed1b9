using System.Text;
using AkkaCache.Cluster.HotKeys;

namespace AkkaCache.Cluster.Tests;

/// <summary>The holder's rules for serving another node's hot-key copies, driven with explicit timestamps.</summary>
public sealed class HotKeyCopiesTests
{
    private static readonly byte[] Key = "k"u8.ToArray();
    private const long NowMs = 1_000_000;

    private static HotKeyOwner OwnerA(HotKeyCopies copies) => copies.Owner("node-a"u8);

    [Fact]
    public void A_copy_is_served_only_within_a_renewed_lease_before_its_expiry_and_while_its_owner_is_the_primary()
    {
        var copies = new HotKeyCopies();
        var owner = OwnerA(copies);
        Assert.True(copies.Set(owner, 5, Key, "v"u8, version: 7, expireAtMs: NowMs + 1000));
        Assert.Equal(1, copies.Count);

        // no ping answered in this session yet
        Assert.Null(copies.Find(Key, NowMs, 100, "node-a"));
        copies.Renewed(owner, 5, validUntil: 200);
        var copy = copies.Find(Key, NowMs, 100, "node-a");
        Assert.NotNull(copy);
        Assert.Equal("v", Encoding.UTF8.GetString(copy.Value));
        Assert.Equal(7, copy.Version);

        Assert.Null(copies.Find(Key, NowMs, 200, "node-a"));          // the lease ran out
        Assert.Null(copies.Find(Key, NowMs + 1000, 100, "node-a"));   // the value expired
        Assert.Null(copies.Find(Key, NowMs, 100, "node-b"));          // the map names another primary
        Assert.Null(copies.Find(Key, NowMs, 100, null));
        Assert.Null(copies.Find("other"u8, NowMs, 100, "node-a"));
        Assert.Same(owner, copies.Owner(Encoding.UTF8.GetBytes("node-a")));
    }

    [Fact]
    public void A_newer_session_ends_every_older_copy_and_older_messages_are_ignored()
    {
        var copies = new HotKeyCopies();
        var owner = OwnerA(copies);
        copies.Set(owner, 5, Key, "old"u8, 1, 0);
        copies.Set(owner, 5, "k2"u8, "old2"u8, 1, 0);
        copies.Renewed(owner, 5, validUntil: 1000);
        Assert.NotNull(copies.Find("k2"u8, NowMs, 10, "node-a"));

        // the owner lost track of this node (a lease ran out, a link broke): its next message starts a new session
        Assert.True(copies.Set(owner, 6, Key, "new"u8, 2, 0));
        Assert.Null(copies.Find("k2"u8, NowMs, 10, "node-a"));
        Assert.Equal(1, copies.Count);
        // the new session's copies wait for a ping answered in it, whatever the old lease said
        Assert.Null(copies.Find(Key, NowMs, 10, "node-a"));
        copies.Renewed(owner, 6, validUntil: 1000);
        Assert.Equal("new", Encoding.UTF8.GetString(copies.Find(Key, NowMs, 10, "node-a")!.Value));

        // a late message or ping answer of the old session changes nothing
        Assert.False(copies.Set(owner, 5, "k2"u8, "old2"u8, 1, 0));
        Assert.False(copies.Delete(owner, 5, Key));
        copies.Renewed(owner, 5, validUntil: 5000);
        Assert.Null(copies.Find(Key, NowMs, 2000, "node-a"));
        Assert.Null(copies.Find("k2"u8, NowMs, 10, "node-a"));

        Assert.True(copies.Delete(owner, 6, Key));
        Assert.Null(copies.Find(Key, NowMs, 10, "node-a"));
        Assert.Equal(0, copies.Count);
    }

    [Fact]
    public void A_ping_answered_in_a_newer_session_drops_the_old_copies_and_reads_are_reported_once()
    {
        var copies = new HotKeyCopies();
        var owner = OwnerA(copies);
        var other = copies.Owner("node-b"u8);
        copies.Set(owner, 1, Key, "v"u8, 1, 0);
        copies.Set(other, 9, "b"u8, "w"u8, 1, 0);
        copies.Renewed(owner, 1, 1000);
        copies.Find(Key, NowMs, 10, "node-a")!.Reads += 3;

        var reads = copies.TakeReads(owner);
        Assert.Equal(("k", 3L), (Encoding.UTF8.GetString(reads.Single().Key), reads.Single().Reads));
        Assert.Empty(copies.TakeReads(owner));

        copies.Renewed(owner, 2, 1000);
        Assert.Null(copies.Find(Key, NowMs, 10, "node-a"));
        Assert.Equal(1, copies.Count);   // node-b's copy is not node-a's business
        copies.Clear();
        Assert.Equal(0, copies.Count);
    }
}
