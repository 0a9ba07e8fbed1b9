using System.Diagnostics;

namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>Runs the real redis-cli (Debian's redis-tools, installed by ./build.sh test) against a node.</summary>
public static class RedisCli
{
    public static async Task<(int ExitCode, string Output)> RunAsync(int port, params string[] args)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli could not start");
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output) + (await error));
    }
}
