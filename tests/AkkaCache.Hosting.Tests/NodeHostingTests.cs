using System.Net.Sockets;
using System.Text;
using AkkaCache.Client.Transport;
using AkkaCache.Protocol;
using AkkaCache.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaCache.Hosting.Tests;

/// <summary>A standalone node embedded in a real Generic Host: started and stopped with it, reachable over TCP and in process.</summary>
public sealed class NodeHostingTests
{
    [Fact]
    public async Task Host_start_runs_the_node_and_it_answers_over_tcp()
    {
        await using var host = await TestHost.StartAsync();
        Assert.Equal(AkkaCacheNodeState.Running, host.Node.State);
        Assert.True(host.Node.Started.IsCompletedSuccessfully);
        Assert.Same(host.Node.Server, await host.Node.Started);

        await using var client = await RespTestClient.ConnectAsync(host.Port);
        Assert.Equal("PONG", (await client.SendAsync("PING")).Text());
        (await client.SendAsync("SET", "greeting", "hello")).AssertOk();
        Assert.Equal("hello", (await client.SendAsync("GET", "greeting")).Text());
    }

    [Fact]
    public async Task The_in_process_node_is_the_registered_host_and_knows_its_endpoint()
    {
        await using var host = await TestHost.StartAsync();
        Assert.Same(host.Node, host.InProcess);
        Assert.Equal($"127.0.0.1:{host.Port}", host.InProcess.EndPoint);
        Assert.Equal(host.Node.Server!.AnnouncedEndPoint, host.InProcess.EndPoint);
    }

    [Fact]
    public async Task In_process_transport_carries_raw_resp()
    {
        await using var host = await TestHost.StartAsync();
        await using var transport = await host.InProcess.ConnectAsync(CancellationToken.None);

        await transport.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), CancellationToken.None);
        Assert.Equal("+PONG\r\n", await ReceiveAsync(transport, 7));

        await transport.SendAsync("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"u8.ToArray(), CancellationToken.None);
        Assert.Equal("+OK\r\n$5\r\nvalue\r\n", await ReceiveAsync(transport, 16));

        // what the in-process client wrote, a socket client reads
        await using var client = await RespTestClient.ConnectAsync(host.Port);
        Assert.Equal("value", (await client.SendAsync("GET", "key")).Text());
    }

    [Fact]
    public async Task Client_list_shows_the_in_process_client_until_it_closes()
    {
        await using var host = await TestHost.StartAsync();
        await using var observer = await RespTestClient.ConnectAsync(host.Port);
        var local = await host.ConnectInProcessAsync();
        long id = (await local.SendAsync("CLIENT", "ID")).Int();
        (await local.SendAsync("CLIENT", "SETNAME", "app")).AssertOk();

        var line = (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text();
        Assert.StartsWith($"id={id} addr=inproc:", line);
        Assert.Contains(" name=app ", line);

        await local.DisposeAsync();
        await Poll.UntilAsync(async () => (await observer.SendAsync("CLIENT", "LIST", "ID", id.ToString())).Text() == "", "the closed in-process client gone");
    }

    [Fact]
    public async Task Host_stop_closes_the_port_and_the_in_process_connections()
    {
        var host = await TestHost.StartAsync();
        int port = host.Port;
        var local = await host.ConnectInProcessAsync();
        Assert.Equal("PONG", (await local.SendAsync("PING")).Text());

        await host.Host.StopAsync();
        Assert.Equal(AkkaCacheNodeState.Stopped, host.Node.State);
        Assert.Null(host.Node.Server);
        Assert.Null(host.InProcess.EndPoint);
        Assert.True(await local.IsClosedByServerAsync());
        var refused = await Assert.ThrowsAsync<SocketException>(() => RespTestClient.ConnectAsync(port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.InProcess.ConnectAsync(CancellationToken.None));
        Assert.Equal("The embedded AkkaCache node is not running (it is stopped).", error.Message);
        Assert.True(host.Log.Contains("AkkaCache node stopped", LogLevel.Information), host.Log.Text);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Lifecycle_is_logged()
    {
        var host = await TestHost.StartAsync();
        int port = host.Port;
        await host.DisposeAsync();
        Assert.True(host.Log.Contains($"Starting AkkaCache node on 127.0.0.1 port 0"), host.Log.Text);
        Assert.True(host.Log.Contains($"AkkaCache node started, accepting connections on 127.0.0.1:{port}, known as 127.0.0.1:{port}"), host.Log.Text);
        Assert.True(host.Log.Contains("AkkaCache node stopped"), host.Log.Text);
        Assert.All(host.Log.Entries.Where(e => e.Message.Contains("AkkaCache node", StringComparison.Ordinal)),
            e => Assert.Equal(typeof(AkkaCacheNodeHost).FullName, e.Category));
    }

    [Fact]
    public async Task An_unknown_setting_fails_the_host_start_naming_it()
    {
        await using var host = TestHost.Build(new Dictionary<string, string?> { ["Prot"] = "7000" });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Host.StartAsync());
        Assert.StartsWith("Invalid AkkaCache node configuration: Unknown setting 'AkkaCache:Prot'; the settings are ", error.Message);
        Assert.Contains(" Port, ", error.Message);
        Assert.Equal(AkkaCacheNodeState.Failed, host.Node.State);
        Assert.True(host.Node.Started.IsFaulted);
        Assert.True(host.Log.Contains("AkkaCache node failed to start: Invalid AkkaCache node configuration", LogLevel.Error), host.Log.Text);
    }

    [Fact]
    public async Task The_clients_section_inside_the_nodes_is_not_an_unknown_setting()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string?> { ["Client:EndPoints"] = "127.0.0.1:7000" });
        Assert.Equal(AkkaCacheNodeState.Running, host.Node.State);
    }

    [Fact]
    public async Task A_bad_value_fails_the_host_start_naming_the_setting()
    {
        await using var host = TestHost.Build(new Dictionary<string, string?> { ["MaxMemory"] = "lots" });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Host.StartAsync());
        Assert.Equal("Invalid AkkaCache node configuration: Invalid AkkaCache:MaxMemory 'lots': expected bytes or a size like 512mb.", error.Message);

        await using var badBind = TestHost.Build(new Dictionary<string, string?> { ["Bind"] = "everywhere" });
        error = await Assert.ThrowsAsync<InvalidOperationException>(() => badBind.Host.StartAsync());
        Assert.Equal("Invalid AkkaCache node configuration: Invalid AkkaCache:Bind 'everywhere': expected an IP address.", error.Message);

        await using var notANumber = TestHost.Build(new Dictionary<string, string?> { ["Port"] = "http" });
        error = await Assert.ThrowsAsync<InvalidOperationException>(() => notANumber.Host.StartAsync());
        Assert.Equal("Invalid AkkaCache node configuration: Failed to convert configuration value 'http' at 'AkkaCache:Port' to type 'System.Int32'.", error.Message);
    }

    [Fact]
    public async Task A_port_in_use_fails_the_host_start()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        squatter.Listen();
        int port = ((System.Net.IPEndPoint)squatter.LocalEndPoint!).Port;

        await using var host = TestHost.Build(new Dictionary<string, string?> { ["Port"] = port.ToString() });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Host.StartAsync());
        Assert.StartsWith($"The AkkaCache node cannot listen on 127.0.0.1 port {port}: ", error.Message);
        Assert.IsType<SocketException>(error.InnerException);
        Assert.Equal(AkkaCacheNodeState.Failed, host.Node.State);
        Assert.Equal(HealthStatus.Unhealthy, (await host.NodeHealthAsync()).Status);
        Assert.Equal("The AkkaCache node failed to start.", (await host.NodeHealthAsync()).Description);
    }

    [Fact]
    public async Task A_cluster_port_in_use_fails_the_host_start_naming_the_address_and_port()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int clusterPort = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        await using var host = TestHost.Build(new Dictionary<string, string?>
        {
            ["ClusterEnabled"] = "yes",
            ["ClusterPort"] = clusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ClusterName"] = "taken",
        });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Host.StartAsync());
        Assert.StartsWith($"The AkkaCache node could not join cluster 'taken': Cannot start the cluster transport on 127.0.0.1:{clusterPort} (--cluster-port)", error.Message);
        Assert.Equal(AkkaCacheNodeState.Failed, host.Node.State);
    }

    [Fact]
    public async Task Health_is_unhealthy_before_start_healthy_while_running_and_unhealthy_after_stop()
    {
        var host = TestHost.Build();
        var before = await host.NodeHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Equal("The AkkaCache node has not started yet.", before.Description);

        await host.Host.StartAsync();
        var local = await host.ConnectInProcessAsync();
        (await local.SendAsync("SET", "a", "1")).AssertOk();
        (await local.SendAsync("SET", "b", "2")).AssertOk();
        var running = await host.NodeHealthAsync();
        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal($"Serving on 127.0.0.1:{host.Port}.", running.Description);
        Assert.Equal(host.Port, running.Data["port"]);
        Assert.Equal(false, running.Data["clustered"]);
        Assert.Equal(2L, running.Data["keys"]);
        Assert.Equal($"127.0.0.1:{host.Port}", running.Data["endpoint"]);
        Assert.Equal(HealthStatus.Healthy, (await host.HealthAsync()).Status);

        await host.Host.StopAsync();
        var after = await host.NodeHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, after.Status);
        Assert.Equal("The AkkaCache node is stopped.", after.Description);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Health_check_failure_status_and_tags_are_the_registrations()
    {
        await using var host = TestHost.Build(services: b => b.Services.AddHealthChecks().AddAkkaCacheNode("cache", HealthStatus.Degraded, ["ready"]));
        var report = await host.HealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Entries["cache"].Status);
        Assert.Contains("ready", report.Entries["cache"].Tags);
    }

    [Fact]
    public async Task Health_check_without_a_node_says_so()
    {
        await using var host = TestHost.Build(addNode: false);
        var entry = await host.NodeHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("No AkkaCache node is registered (services.AddAkkaCacheNode).", entry.Description);
    }

    [Fact]
    public async Task Configured_in_code_and_settings_overridden_in_code()
    {
        await using var coded = await TestHost.StartAsync(services: b => b.Services.AddAkkaCacheNode(o =>
        {
            o.Port = 0;
            o.Shards = 64;
            o.RequirePass = "secret";
        }), settings: null);
        var local = await coded.ConnectInProcessAsync();
        (await local.SendAsync("GET", "k")).AssertError("NOAUTH Authentication required.");
        (await local.SendAsync("AUTH", "secret")).AssertOk();
        Assert.Equal(RespValue.Null, await local.SendAsync("GET", "k"));
        await local.DisposeAsync();
    }

    [Fact]
    public async Task Section_binding_with_a_code_override()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cache:Node:Port"] = "0",
            ["Cache:Node:Shards"] = "64",
            ["Cache:Node:MaxMemory"] = "64mb",
            ["Cache:Node:ProtoMaxBulkLen"] = "2kb",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddAkkaCacheNode(builder.Configuration.GetSection("Cache:Node"), o => o.ProtoMaxBulkLen = "4kb");
        using var host = builder.Build();
        await host.StartAsync();
        var node = host.Services.GetRequiredService<AkkaCacheNodeHost>();
        await using var client = await RespTestClient.ConnectAsync(node.Server!.Port);
        var maxmemory = await client.SendAsync("CONFIG", "GET", "maxmemory");
        Assert.Equal((64 * 1024 * 1024).ToString(), maxmemory.Items![1].Text());
        (await client.SendAsync("SET", "k", new string('x', 3000))).AssertOk();
        await host.StopAsync();
    }

    [Fact]
    public async Task Disposing_the_host_without_stopping_it_stops_the_node()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Test" });
        builder.Logging.ClearProviders();
        builder.Services.AddAkkaCacheNode(o => { o.Port = 0; o.Shards = 64; });
        var host = builder.Build();
        await host.StartAsync();
        int port = host.Services.GetRequiredService<AkkaCacheNodeHost>().Server!.Port;
        host.Dispose(); // synchronous, as `using var host` does
        await Assert.ThrowsAsync<SocketException>(() => RespTestClient.ConnectAsync(port));
    }

    [Fact]
    public async Task A_host_disposed_before_starting_cancels_the_start()
    {
        var host = TestHost.Build();
        var node = host.Node;
        host.Host.Dispose();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.Started);
        Assert.Equal(AkkaCacheNodeState.Stopped, node.State);
    }

    [Fact]
    public async Task Registering_twice_runs_one_node()
    {
        await using var host = await TestHost.StartAsync(services: b => b.Services.AddAkkaCacheNode(b.Configuration.GetSection("AkkaCache")));
        Assert.Single(host.Host.Services.GetServices<IHostedService>(), s => s.GetType().Name == "AkkaCacheNodeService");
        Assert.Equal(AkkaCacheNodeState.Running, host.Node.State);
    }

    [Fact]
    public async Task The_node_status_is_reachable_through_the_accessor()
    {
        await using var host = await TestHost.StartAsync();
        var status = host.Node.GetStatus()!;
        Assert.False(status.IsClustered);
        Assert.True(status.CanServe);
        Assert.Equal(host.Port, status.Port);
        Assert.Null(TestHost.Build().Node.GetStatus());
    }

    private static async Task<string> ReceiveAsync(INodeTransport transport, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[count];
        int received = 0;
        while (received < count)
        {
            int n = await transport.ReceiveAsync(buffer.AsMemory(received), timeout.Token);
            if (n == 0) throw new EndOfStreamException();
            received += n;
        }
        return Encoding.ASCII.GetString(buffer);
    }
}
