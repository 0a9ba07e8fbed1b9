using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AkkaCache.Cli.Tests.Infrastructure;

namespace AkkaCache.Cli.Tests;

/// <summary>Bad usage, unreachable and silent nodes, a node outside cluster mode: each a distinct exit code and a message saying what to do.</summary>
[Collection(ClusterProcesses.Name)]
public sealed class CliErrorTests
{
    [Fact]
    public async Task An_unreachable_host_exits_with_the_connection_code_and_says_what_to_do()
    {
        string host = "127.0.0.1:" + NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        var run = await CliRunner.RunAsync("--host", host, "cluster", "show");
        Assert.Equal(ExitCodes.Connection, run.ExitCode);
        Assert.Contains($"cannot reach {host}: connection refused — is the node running? use --host", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task A_node_that_accepts_but_never_answers_times_out_with_the_timeout_code()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        string host = "127.0.0.1:" + ((IPEndPoint)silent.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        var run = await CliRunner.RunAsync("--host", host, "--timeout", "0.5", "cluster", "leader");
        Assert.Equal(ExitCodes.Timeout, run.ExitCode);
        Assert.Contains($"{host} did not answer AC.CLUSTERSTATE within 0.5s", run.Error);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("cluster", "leave")]
    [InlineData("flush")]
    [InlineData("--timeout", "-1", "cluster", "show")]
    [InlineData("--host", "127.0.0.1:notaport", "cluster", "show")]
    [InlineData("shards", "show", "--nodes", "a")]
    public async Task Bad_usage_exits_with_the_usage_code(params string[] args)
    {
        var run = await CliRunner.RunAsync(args);
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.NotEqual("", run.Error.Trim());
    }

    [Fact]
    public async Task Flush_without_all_explains_the_flag()
    {
        var run = await CliRunner.RunAsync("flush", "--yes");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--all", run.Error);
    }

    [Fact]
    public async Task A_node_with_a_password_says_which_option_gives_it_and_refuses_a_wrong_one()
    {
        int port = NodeProcess.FreePort();
        await using var node = NodeProcess.Start("guarded", port, ["--port", port.ToString(CultureInfo.InvariantCulture), "--requirepass", "s3cret"]);
        await node.WaitReadyAsync();
        string host = $"127.0.0.1:{port}";

        var none = await CliRunner.RunAsync("--host", host, "cluster", "show");
        Assert.Equal(ExitCodes.NodeError, none.ExitCode);
        Assert.Contains($"{host} requires a password: use --password or AKKACACHE_PASSWORD", none.Error);

        var wrong = await CliRunner.RunAsync("--host", host, "--password", "nope", "cluster", "show");
        Assert.Equal(ExitCodes.NodeError, wrong.ExitCode);
        Assert.Contains($"{host} refused the password", wrong.Error);

        // the right one, from the environment: past AUTH, to the next complaint
        var right = await CliRunner.RunAsync(new CliOptions { Environment = { [CliApp.PasswordVariable] = "s3cret" } }, "--host", host, "cluster", "show");
        Assert.Equal(ExitCodes.NodeError, right.ExitCode);
        Assert.Contains("is not in cluster mode", right.Error);
    }

    [Fact]
    public async Task Cluster_commands_on_a_standalone_node_say_it_is_not_in_cluster_mode()
    {
        int port = NodeProcess.FreePort();
        await using var node = NodeProcess.Start("standalone", port, ["--port", port.ToString(CultureInfo.InvariantCulture)]);
        await node.WaitReadyAsync();
        var run = await CliRunner.RunAsync("--host", $"127.0.0.1:{port}", "cluster", "show");
        Assert.Equal(ExitCodes.NodeError, run.ExitCode);
        Assert.Contains("is not in cluster mode", run.Error);
    }
}
