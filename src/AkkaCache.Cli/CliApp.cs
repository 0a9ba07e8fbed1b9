using System.CommandLine;
using AkkaCache.Cli.Commands;

namespace AkkaCache.Cli;

/// <summary>The <c>akkacache</c> command line: global options, the command tree, errors and exit codes.</summary>
public static class CliApp
{
    public const string HostVariable = "AKKACACHE_HOST";
    public const string PasswordVariable = "AKKACACHE_PASSWORD";
    public const string DefaultHost = "127.0.0.1:6379";

    /// <summary>Runs one command line; returns the exit code (<see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellation = default)
    {
        var globals = new GlobalOptions(console);
        var root = new RootCommand("akkacache: operate an AkkaCache cluster (members, shards, hot keys, statistics) through any of its nodes.");
        foreach (var option in globals.All) root.Options.Add(option);
        root.Subcommands.Add(ClusterCommands.Build(globals));
        root.Subcommands.Add(ShardCommands.Build(globals));
        root.Subcommands.Add(HotKeysCommand.Build(globals));
        root.Subcommands.Add(StatsCommand.Build(globals));
        root.Subcommands.Add(SlowlogCommand.Build(globals));
        root.Subcommands.Add(FlushCommand.Build(globals));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) await console.Error.WriteLineAsync("akkacache: " + error.Message);
            await console.Error.WriteLineAsync("Run 'akkacache --help' (or 'akkacache <command> --help') for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false }, cancellation);
        }
        catch (CliException e)
        {
            await console.Error.WriteLineAsync("akkacache: " + e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return ExitCodes.Aborted;
        }
    }
}

/// <summary>--host, --password, --json, --timeout: accepted before or after the command name.</summary>
public sealed class GlobalOptions
{
    public GlobalOptions(CliConsole console)
    {
        Console = console;
        Host = new Option<string>("--host")
        {
            Description = $"Any node of the cluster, host:port (or ${CliApp.HostVariable}).",
            Recursive = true,
            DefaultValueFactory = _ => console.Environment(CliApp.HostVariable) is { Length: > 0 } host ? host : CliApp.DefaultHost,
        };
        Password = new Option<string?>("--password", "-a")
        {
            Description = $"The nodes' requirepass (or ${CliApp.PasswordVariable}).",
            Recursive = true,
            DefaultValueFactory = _ => console.Environment(CliApp.PasswordVariable),
        };
        Json = new Option<bool>("--json") { Description = "Print JSON for scripts instead of tables.", Recursive = true };
        Timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for a node to connect or answer.",
            Recursive = true,
            DefaultValueFactory = _ => 5,
        };
        Timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is <= 0 or > 3600) result.AddError("--timeout must be between 0 and 3600 seconds.");
        });
    }

    public CliConsole Console { get; }
    public Option<string> Host { get; }
    public Option<string?> Password { get; }
    public Option<bool> Json { get; }
    public Option<double> Timeout { get; }

    public IEnumerable<Option> All => [Host, Password, Json, Timeout];

    /// <summary>Sets <paramref name="command"/>'s action: <paramref name="run"/> with a context built from the global options.</summary>
    public void SetAction(Command command, Func<CliContext, ParseResult, Task<int>> run) =>
        command.SetAction(async (parsed, cancellation) =>
        {
            var context = new CliContext
            {
                Console = Console,
                Host = parsed.GetValue(Host) ?? CliApp.DefaultHost,
                Password = parsed.GetValue(Password),
                Json = parsed.GetValue(Json),
                Timeout = TimeSpan.FromSeconds(parsed.GetValue(Timeout)),
                Cancellation = cancellation,
            };
            NodeClient.ParseEndpoint(context.Host); // a malformed --host is a usage error before anything is sent
            return await run(context, parsed);
        });
}
