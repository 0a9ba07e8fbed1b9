using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>The admin port's /health/live and /health/ready on a real node, read with HttpClient.</summary>
public sealed class HealthEndpointTests : IAsyncLifetime
{
    private TestNode _node = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync();
        _node.Server.StartAdmin(new IPEndPoint(IPAddress.Loopback, 0));
        _http.BaseAddress = new Uri($"http://{_node.Server.AdminEndPoint}/");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Live_and_ready_answer_200_with_json_for_a_running_standalone_node()
    {
        using var live = await _http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("application/json", live.Content.Headers.ContentType!.MediaType);
        Assert.Equal("live", JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());

        using var ready = await _http.GetAsync("health/ready?verbose=1");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.False(body.GetProperty("clustered").GetBoolean());
        Assert.Equal(_node.Server.AnnouncedEndPoint, body.GetProperty("node").GetString());
    }

    [Fact]
    public async Task Head_answers_without_a_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "health/ready");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unknown_paths_other_methods_and_garbage_get_clear_errors()
    {
        using var missing = await _http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("/health/ready", await missing.Content.ReadAsStringAsync());

        using var post = await _http.PostAsync("health/live", new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order());

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_node.Server.AdminEndPoint!);
        await socket.SendAsync("PING\r\n\r\n"u8.ToArray());
        var reply = new byte[1024];
        int read = await socket.ReceiveAsync(reply);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", Encoding.ASCII.GetString(reply, 0, read));
    }

    [Fact]
    public async Task The_resp_port_keeps_serving_while_probed()
    {
        await using var client = await _node.ConnectAsync();
        for (int i = 0; i < 5; i++)
        {
            using var ready = await _http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("PONG", (await client.SendAsync("PING")).Text());
        }
    }

    [Fact]
    public void Readiness_in_a_cluster_needs_membership_a_map_a_valid_lease_and_no_leave()
    {
        var joined = new NodeStatus("127.0.0.1:7000", 7000, IsClustered: true, IsStopped: false, CanServe: true, 0, 0)
        {
            IsMember = true,
            HasTopology = true,
            LeaseValid = true,
        };
        Assert.True(Diagnostics.HealthEndpoint.IsReady(joined));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { IsMember = false }));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { LeaseValid = false }));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { HasTopology = false }));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { IsLeaving = true }));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { CanServe = false }));
        Assert.False(Diagnostics.HealthEndpoint.IsReady(joined with { IsStopped = true }));
    }

    [Fact]
    public async Task Admin_port_option_is_validated_and_a_taken_port_fails_the_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestNode.StartAsync(o => o.AdminPort = 70000));
        Assert.Equal("Invalid AkkaCache:AdminPort 70000: expected 0 (off) or 1..65535.", error.Message);
        int taken = _node.Server.AdminEndPoint!.Port;
        await Assert.ThrowsAsync<SocketException>(() => TestNode.StartAsync(o => o.AdminPort = taken));
        Assert.Equal("1234", Configuration.CommandLineOptions.Parse(["--admin-port", "1234"]).Settings["AkkaCache:AdminPort"]);
    }
}
