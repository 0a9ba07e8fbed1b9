using Akka.Configuration;

namespace AkkaCache.Cluster.ControlPlane;

/// <summary>
/// The node's HOCON: <c>hocon/akkacache.conf</c>, shipped inside this assembly, is the one source of every default, the
/// <c>akka</c> section for Akka and the <c>akkacache</c> section for the node's own settings; a <c>--config</c> file
/// has the same shape. Akka's parser reads both (it ships with Akka).
/// </summary>
public static class NodeHocon
{
    /// <summary>The section of the node's own settings, one key per command-line switch.</summary>
    public const string NodeSection = "akkacache";

    /// <summary>Keys of the node's section that the cluster reads from the whole HOCON (ClusterAgent), not node settings.</summary>
    public static IReadOnlySet<string> ClusterKeys { get; } = new HashSet<string>(StringComparer.Ordinal) { "lease" };

    private static readonly Lazy<Config> ShippedConfig = new(() =>
    {
        using var stream = typeof(NodeHocon).Assembly.GetManifestResourceStream("akkacache.conf")
                           ?? throw new InvalidOperationException("akkacache.conf is not embedded in AkkaCache.Cluster");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });

    /// <summary>hocon/akkacache.conf as shipped.</summary>
    public static Config Shipped => ShippedConfig.Value;

    /// <summary>The node settings of the shipped defaults: (switch name, value as text), in file order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ShippedSettings { get; } = NodeSettings(Shipped, "hocon/akkacache.conf");

    /// <summary>
    /// The node settings of a HOCON file (its <c>akkacache</c> section). Throws <see cref="InvalidOperationException"/>
    /// naming the file when it does not parse or a setting is not a plain value.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> FileSettings(string path)
    {
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            // the parser's own exception types vary by the fault; the node exits with status 2 on this one
            throw new InvalidOperationException($"Invalid configuration file '{path}': {e.Message}", e);
        }
        return NodeSettings(config, path);
    }

    private static List<KeyValuePair<string, string>> NodeSettings(Config config, string source)
    {
        var settings = new List<KeyValuePair<string, string>>();
        if (!config.HasPath(NodeSection)) return settings;
        var section = config.GetConfig(NodeSection);
        foreach (var (key, value) in section.AsEnumerable())
        {
            if (ClusterKeys.Contains(key)) continue;
            if (value.IsObject() || value.IsArray())
                throw new InvalidOperationException($"Invalid {NodeSection}.{key} in '{source}': expected a value, not a section or a list.");
            settings.Add(new(key, value.GetString() ?? ""));
        }
        return settings;
    }
}
