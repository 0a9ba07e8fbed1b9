namespace AkkaCache.Cli;

/// <summary>The <c>akkacache</c> tool's exit codes (README: "Exit codes").</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command ran but did not achieve what it was asked (a leave that ended with shards not handed off).</summary>
    public const int Failed = 1;
    /// <summary>Bad usage: unknown command or option, a missing or malformed argument.</summary>
    public const int Usage = 2;
    /// <summary>A node could not be reached (refused, unknown host, connection lost).</summary>
    public const int Connection = 3;
    /// <summary>A node answered with an error, or named something the cluster does not know (an unknown node id).</summary>
    public const int NodeError = 4;
    /// <summary>A node did not answer within --timeout, or an operation did not finish within --wait.</summary>
    public const int Timeout = 5;
    /// <summary>A destructive command was not confirmed.</summary>
    public const int Aborted = 6;
}

/// <summary>A failure the tool reports as one line (what went wrong and what to do) and an exit code.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
