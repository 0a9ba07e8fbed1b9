using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaCache.Client.Tests.Infrastructure;

namespace AkkaCache.Client.Tests;

/// <summary>
/// What the client does when the network or the node misbehaves: a real node behind a real TCP relay that stalls the
/// node's replies or resets every connection. Calls fail fast or retry; none hangs.
/// </summary>
public sealed class ClientFailureTests
{
    // a guard against hangs only: every call below must end long before it
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_stalled_call_times_out_and_the_connection_stays_in_step()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var relay = new TcpRelay(node.Port);
        await using var cache = await AkkaCacheClient.ConnectAsync($"{relay.EndPoint},timeout=500");
        await cache.SetAsync("k", "before");

        relay.Stall();
        var stalled = cache.GetStringAsync("k").AsTask();
        await Assert.ThrowsAsync<AkkaCacheTimeoutException>(() => stalled.WaitAsync(Hang));

        // the late reply to the timed-out call must be dropped, not handed to the next call
        relay.Resume();
        await cache.SetAsync("k2", "after");
        Assert.Equal("after", await cache.GetStringAsync("k2"));
        Assert.Equal("before", await cache.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_per_call_timeout_overrides_the_default()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var relay = new TcpRelay(node.Port);
        await using var cache = await AkkaCacheClient.ConnectAsync($"{relay.EndPoint},timeout=60000");
        relay.Stall();
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<AkkaCacheTimeoutException>(() => cache.WithTimeout(TimeSpan.FromMilliseconds(300)).GetAsync("k").AsTask().WaitAsync(Hang));
        // the default of 60 s did not apply (a bound far from the timeout: this is not a timing assertion)
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        relay.Resume();
    }

    [Fact]
    public async Task Cancelling_a_call_ends_it_at_once_and_later_calls_work()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var relay = new TcpRelay(node.Port);
        await using var cache = await AkkaCacheClient.ConnectAsync($"{relay.EndPoint},timeout=60000");
        relay.Stall();
        using var cancel = new CancellationTokenSource();
        var call = cache.IncrementAsync("n", 5, cancel.Token).AsTask();
        Assert.False(call.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Hang));

        // an already-cancelled token never sends
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cache.IncrementAsync("never", 1, cancel.Token));

        relay.Resume();
        // the cancelled INCR still ran on the node (it had been sent): cancellation does not undo a write
        Assert.Equal(6, await cache.IncrementAsync("n"));
        Assert.False(await cache.ExistsAsync("never"));
    }

    [Fact]
    public async Task A_node_dying_mid_stream_fails_writes_fast_and_retries_reads()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var relay = new TcpRelay(node.Port);
        await using var cache = await AkkaCacheClient.ConnectAsync($"{relay.EndPoint},timeout=10000");
        await cache.SetAsync("k", "v");
        await cache.SetAsync("counter", "0");

        relay.Stall();
        var increment = cache.IncrementAsync("counter").AsTask();
        var read = cache.GetStringAsync("k").AsTask();
        // the node has run the INCR (only its reply is held back) when the connection dies
        await using (var direct = await node.ConnectAsync())
            await Poll.UntilAsync(async () => (await direct.SendAsync("GET", "counter")).AsString() == "1", "the INCR to reach the node");
        relay.CutAll();

        // INCR may have run, so it is not sent again: it fails at once with the connection's error
        var lost = await Assert.ThrowsAsync<AkkaCacheConnectionException>(() => increment.WaitAsync(Hang));
        Assert.Contains(relay.EndPoint, lost.Message);
        // GET is sent again on a new connection
        relay.Resume();
        Assert.Equal("v", await read.WaitAsync(Hang));
        // the lost INCR had reached the node (only its reply was held back): sending it again would have counted twice
        Assert.Equal(2, await cache.IncrementAsync("counter"));
    }

    [Fact]
    public async Task An_unreachable_node_fails_fast_with_a_clear_error()
    {
        int port = FreePort();
        var error = await Assert.ThrowsAsync<AkkaCacheConnectionException>(() =>
            AkkaCacheClient.ConnectAsync($"127.0.0.1:{port},connectTimeout=2000").WaitAsync(Hang));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task Seeds_are_tried_in_turn()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var cache = await AkkaCacheClient.ConnectAsync($"127.0.0.1:{FreePort()},{node.EndPoint}");
        await cache.SetAsync("k", "v");
        Assert.Equal("v", await cache.GetStringAsync("k"));
    }

    [Fact]
    public async Task A_password_is_sent_on_every_connection_and_a_wrong_one_is_refused()
    {
        await using var node = await StandaloneNode.StartAsync(o => o.RequirePass = "s3cret");
        await using (var cache = await AkkaCacheClient.ConnectAsync($"{node.EndPoint},password=s3cret,connectionsPerNode=3"))
        {
            for (int i = 0; i < 6; i++) await cache.SetAsync($"k{i}", "v");
            Assert.Equal("v", await cache.GetStringAsync("k5"));
        }

        var wrong = await Assert.ThrowsAnyAsync<AkkaCacheException>(() => AkkaCacheClient.ConnectAsync($"{node.EndPoint},password=nope"));
        Assert.Contains("AUTH", wrong.Message + wrong.InnerException?.Message);

        await using var anonymous = AkkaCacheClient.Create(AkkaCacheClientOptions.Parse(node.EndPoint), null, null);
        var refused = await Assert.ThrowsAnyAsync<AkkaCacheException>(async () => await anonymous.GetAsync("k1"));
        Assert.Contains("NOAUTH", refused.Message + refused.InnerException?.Message);
    }

    [Fact]
    public async Task Replica_reads_against_a_standalone_node_read_from_it()
    {
        await using var node = await StandaloneNode.StartAsync();
        await using var cache = await AkkaCacheClient.ConnectAsync($"{node.EndPoint},readFromReplicas=true");
        await cache.SetAsync("k", "v");
        Assert.Equal("v", await cache.GetStringAsync("k"));
    }

    [Fact]
    public async Task Calls_after_dispose_are_refused()
    {
        await using var node = await StandaloneNode.StartAsync();
        var cache = await AkkaCacheClient.ConnectAsync(node.EndPoint);
        await cache.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await cache.GetAsync("k"));
    }

    [Theory]
    [InlineData("", "EndPoints")]
    [InlineData("localhost", "host:port")]
    [InlineData("127.0.0.1:70000", "host:port")]
    [InlineData("127.0.0.1:7000,colour=blue", "colour")]
    [InlineData("127.0.0.1:7000,timeout=soon", "timeout")]
    [InlineData("127.0.0.1:7000,connectionsPerNode=0", "ConnectionsPerNode")]
    public void A_bad_configuration_string_says_what_is_wrong(string configuration, string named)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => AkkaCacheClientOptions.Parse(configuration));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void A_configuration_string_sets_every_key()
    {
        var options = AkkaCacheClientOptions.Parse("a:1, b:2,password=p,user=u,connectTimeout=1500,timeout=250,connectionsPerNode=4,readFromReplicas=true");
        Assert.Equal("a:1,b:2", options.EndPoints);
        Assert.Equal(("p", "u"), (options.Password, options.User));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.OperationTimeout);
        Assert.Equal(4, options.ConnectionsPerNode);
        Assert.True(options.ReadFromReplicas);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
