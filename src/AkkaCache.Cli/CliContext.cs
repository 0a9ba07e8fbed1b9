using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaCache.Cli;

/// <summary>What every command works with: the console, the global options, and the ways to reach nodes.</summary>
public sealed class CliContext
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public required CliConsole Console { get; init; }
    public required string Host { get; init; }
    public string? Password { get; init; }
    public bool Json { get; init; }
    public TimeSpan Timeout { get; init; }
    public CancellationToken Cancellation { get; init; }

    public Task<NodeClient> ConnectAsync(string endpoint) => NodeClient.ConnectAsync(endpoint, Password, Timeout, Cancellation);

    /// <summary>Members, leader and map from the node at --host (from its view of Akka's membership and its copy of the map).</summary>
    public async Task<ClusterStateReply> ReadStateAsync()
    {
        await using var node = await ConnectAsync(Host);
        return await ReadStateAsync(node);
    }

    public async Task<ClusterStateReply> ReadStateAsync(NodeClient node)
    {
        var reply = await node.CallAsync(Cancellation, "AC.CLUSTERSTATE");
        if (reply.IsError)
        {
            string error = reply.AsString() ?? "";
            if (error.Contains("cluster support disabled", StringComparison.Ordinal))
                throw new CliException(ExitCodes.NodeError, $"{node.Endpoint} is not in cluster mode (started without --cluster-enabled yes); cluster commands need a cluster node");
            if (error.StartsWith("ERR unknown command", StringComparison.Ordinal))
                throw new CliException(ExitCodes.NodeError, $"{node.Endpoint} does not know AC.CLUSTERSTATE: it runs an older akkacache-server than this tool");
            throw new CliException(ExitCodes.NodeError, $"{node.Endpoint}: {error}");
        }
        return ClusterStateReply.Parse(reply.AsString() ?? "");
    }

    /// <summary>
    /// One request to each member at once; an unreachable or failing member gives its error text instead of a reply,
    /// so one dead node does not hide the others.
    /// </summary>
    public async Task<Dictionary<string, NodeAnswer>> AskEachAsync(IEnumerable<MemberReply> members, params string[] args)
    {
        var answers = await Task.WhenAll(members.Select(async member =>
        {
            try
            {
                await using var node = await ConnectAsync(member.Endpoint);
                var reply = await node.CallAsync(Cancellation, args);
                return (member.Id, Answer: reply.IsError ? new NodeAnswer(null, reply.AsString()) : new NodeAnswer(reply, null));
            }
            catch (CliException e)
            {
                return (member.Id, Answer: new NodeAnswer(null, e.Message));
            }
        }));
        return answers.ToDictionary(a => a.Id, a => a.Answer);
    }

    /// <summary>INFO from each member; null for one that did not answer.</summary>
    public async Task<Dictionary<string, InfoFields?>> InfoOfEachAsync(IEnumerable<MemberReply> members, string section = "everything")
    {
        var answers = await AskEachAsync(members, "INFO", section);
        return answers.ToDictionary(a => a.Key, a => a.Value.Reply?.AsString() is { } text ? new InfoFields(text) : null);
    }

    public void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public void Warn(string message) => Console.Error.WriteLine("akkacache: " + message);

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}

/// <summary>A member's reply, or why there is none.</summary>
public sealed record NodeAnswer(AkkaCache.Protocol.RespValue? Reply, string? Error);
