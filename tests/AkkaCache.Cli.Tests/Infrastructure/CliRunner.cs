using System.Diagnostics;
using System.Text.Json;

namespace AkkaCache.Cli.Tests.Infrastructure;

/// <summary>What one run of the tool printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public JsonElement Json() => JsonDocument.Parse(Output).RootElement;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs the tool in-process through <see cref="CliApp.RunAsync"/>, or as the built executable.</summary>
public static class CliRunner
{
    public static async Task<CliRun> RunAsync(params string[] args) => await RunAsync(new CliOptions(), args);

    public static async Task<CliRun> RunAsync(CliOptions options, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new CliConsole
        {
            Out = output,
            Error = error,
            In = new StringReader(options.Input ?? ""),
            InputIsTerminal = options.InputIsTerminal,
            Environment = name => options.Environment.GetValueOrDefault(name),
        };
        int code = await CliApp.RunAsync(args, console);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>The <c>akkacache</c> executable next to the tests (copied there as a referenced project).</summary>
    public static async Task<CliRun> RunProcessAsync(IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "akkacache"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return new CliRun(process.ExitCode, await output, await error);
    }

    public static string Host(NodeProcess node) => $"127.0.0.1:{node.Port}";
}

public sealed record CliOptions
{
    public string? Input { get; init; }
    public bool InputIsTerminal { get; init; }
    public Dictionary<string, string> Environment { get; init; } = [];
}

/// <summary>Cluster tests start real processes: one at a time, so two cores are not shared by several clusters.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    public const string Name = "cluster processes";
}

/// <summary>A 3-node cluster (64 shards, hot keys from 10 ops/s) shared by the tests that do not change its membership.</summary>
public sealed class ThreeNodeCluster : IAsyncLifetime
{
    private TestCluster? _cluster;

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster has not started");

    public string Host => CliRunner.Host(Cluster.Nodes[0]);

    public string Seeds => string.Join(",", Cluster.Nodes.Select(CliRunner.Host));

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(3, "--shards", "64", "--hotkey-min-rate", "10");

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
