namespace AkkaCache.Client;

/// <summary>Base of every error the client raises for a call that did not succeed.</summary>
public class AkkaCacheException : Exception
{
    public AkkaCacheException(string message) : base(message) { }
    public AkkaCacheException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The node answered with an error reply (wrong type, overflow, out of memory...). The message is the node's.</summary>
public sealed class AkkaCacheServerException : AkkaCacheException
{
    public AkkaCacheServerException(string command, string error) : base($"{command}: {error}")
    {
        Command = command;
        Error = error;
    }

    public string Command { get; }

    /// <summary>The error reply as the node sent it, e.g. "ERR value is not an integer or out of range".</summary>
    public string Error { get; }
}

/// <summary>No connection to the node that owns the key could be made or kept (refused, closed, reset).</summary>
public sealed class AkkaCacheConnectionException : AkkaCacheException
{
    public AkkaCacheConnectionException(string endPoint, string message, Exception? inner = null) : base(message, inner) => EndPoint = endPoint;

    public string EndPoint { get; }
}

/// <summary>The call got no answer within its timeout. A write that timed out may still have been applied.</summary>
public sealed class AkkaCacheTimeoutException : TimeoutException
{
    public AkkaCacheTimeoutException(string message, Exception? inner = null) : base(message, inner) { }
}
