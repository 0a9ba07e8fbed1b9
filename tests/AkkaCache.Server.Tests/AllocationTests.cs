using System.Net.Sockets;
using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationCollection;

/// <summary>
/// The request path allocates nothing: counted over the whole process (server and this raw-socket client, whose
/// pooled socket operations allocate nothing either), with no other test running alongside.
/// </summary>
[Collection(nameof(AllocationTests))]
public sealed class AllocationTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("SET")]
    [InlineData("INCR")]
    [InlineData("PUBLISH")]
    public async Task Round_trips_allocate_nothing_per_request(string command)
    {
        await using var node = await TestNode.StartAsync();
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", node.Port);
        var socket = tcp.Client;
        var request = command switch
        {
            "GET" => RespRequestEncoder.Encode("GET", "key:000000001234"),
            "SET" => RespRequestEncoder.Encode("SET", "key:000000001234", new string('v', 64)),
            "INCR" => RespRequestEncoder.Encode("INCR", "counter"),
            _ => RespRequestEncoder.Encode("PUBLISH", "nobody-listens", "message"),
        };
        var reply = new byte[4096];
        async Task Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                await socket.SendAsync(request.AsMemory(), SocketFlags.None);
                Assert.True(await socket.ReceiveAsync(reply.AsMemory(), SocketFlags.None) > 0);
            }
        }
        long least = await AllocationTests.LeastBytesPerRequestAsync(Run);
        Assert.True(least < 8, $"{command}: {least} bytes allocated per request");
    }

    /// <summary>
    /// Bytes allocated per request, process-wide, after a warm-up (tiered JIT, pools, buffers): the least of seven short
    /// windows, since a per-request allocation shows in all of them while the runtime's own occasional allocations (a
    /// thread-pool thread starting, a method re-jitted in the background, a timer of a node another test left) land in
    /// some at most. Three windows of 5,000 once all caught such noise (12 bytes a message).
    /// </summary>
    internal static async Task<long> LeastBytesPerRequestAsync(Func<int, Task> run)
    {
        await run(20_000);
        const int requests = 2000;
        long least = long.MaxValue;
        for (int window = 0; window < 7; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await run(requests);
            least = Math.Min(least, (GC.GetTotalAllocatedBytes(precise: true) - before) / requests);
        }
        return least;
    }
}

/// <summary>The same through an in-process connection: pipes, pooled async state and the thread-pool hops allocate nothing either.</summary>
[Collection(nameof(AllocationTests))]
public sealed class InProcessAllocationTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("SET")]
    [InlineData("INCR")]
    public async Task In_process_round_trips_allocate_nothing_per_request(string command)
    {
        await using var node = await TestNode.StartAsync();
        await using var connection = node.Server.ConnectInProcess();
        var request = command switch
        {
            "GET" => RespRequestEncoder.Encode("GET", "key:000000001234"),
            "SET" => RespRequestEncoder.Encode("SET", "key:000000001234", new string('v', 64)),
            _ => RespRequestEncoder.Encode("INCR", "counter"),
        };
        var reply = new byte[4096];
        async Task Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                await connection.SendAsync(request);
                Assert.True(await connection.ReceiveAsync(reply) > 0);
            }
        }
        long least = await AllocationTests.LeastBytesPerRequestAsync(Run);
        Assert.True(least < 8, $"{command}: {least} bytes allocated per request");
    }
}
