using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using AkkaCache.Cluster.ControlPlane;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>hocon/akkacache.conf is the one source of the node's defaults; --config FILE (HOCON or JSON) comes over it.</summary>
public sealed partial class HoconConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("akkacache-hocon-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Dictionary<string, string> Shipped => NodeHocon.ShippedSettings.ToDictionary(p => p.Key, p => p.Value);

    private static readonly PropertyInfo[] Settings = [.. typeof(NodeOptions).GetProperties()
        .Where(p => p.SetMethod?.IsPublic == true && p.Name != nameof(NodeOptions.ConfigFile))]; // --config is a switch of its own

    [Fact]
    public void Every_switch_has_its_default_in_the_file_or_has_none_and_every_setting_has_a_switch()
    {
        var options = new NodeOptions();
        foreach (string name in CommandLineOptions.Switches)
        {
            var property = Property(name);
            // the settings the file leaves out (commented, as examples) are those without a default
            if (!Shipped.ContainsKey(name)) Assert.True(property.GetValue(options) is null, $"--{name} has a default but none in hocon/akkacache.conf");
        }
        Assert.Empty(Shipped.Keys.Except(CommandLineOptions.Switches, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(Settings.Select(p => p.Name).Order(), CommandLineOptions.Switches.Select(s => Property(s).Name).Order());
    }

    [Fact]
    public void A_new_options_object_holds_the_files_values()
    {
        var options = new NodeOptions();
        foreach (var (name, value) in Shipped)
        {
            object? actual = Property(name).GetValue(options);
            Assert.True(Same(value, actual), $"--{name}: the file says '{value}', NodeOptions has '{actual}'");
        }
        // spot checks in the schema's own types
        Assert.Equal(6379, options.Port);
        Assert.True(options.HotKeyDetection);
        Assert.Equal(0.01, options.HotKeyShare);
        Assert.Equal(1L << 30, options.ClientQueryBufferLimitBytes);
        Assert.False(options.IsClusterEnabled);
    }

    [Fact]
    public async Task Config_get_shows_the_files_defaults()
    {
        // port and shards are the test node's own; hotkey-replication says whether the node is a cluster that copies;
        // client-output-buffer-limit shows every client class, the file only the one it changes
        string[] own = ["port", "shards", "hotkey-replication", "client-output-buffer-limit"];
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        int compared = 0;
        foreach (var (name, value) in Shipped.Where(p => !own.Contains(p.Key)))
        {
            var reply = await client.SendAsync("CONFIG", "GET", name);
            if (reply.Items!.Count == 0) continue; // not a CONFIG parameter
            Assert.True(Same(value, reply.Items[1].AsString()), $"{name}: the file says '{value}', CONFIG GET '{reply.Items[1].AsString()}'");
            compared++;
        }
        Assert.True(compared >= 12, $"only {compared} settings are CONFIG parameters");
    }

    [Fact]
    public void The_readme_table_gives_the_files_defaults()
    {
        // where the default is worked out at start, the table says how
        var described = new Dictionary<string, string>
        {
            ["cluster-port"] = "client port + 10000",
            ["seed-nodes"] = "(the node itself)",
            ["node-id"] = "the announced host:port",
            ["announce"] = "bind address and port",
        };
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var rows = TableRow().Matches(readme).ToDictionary(m => m.Groups["switch"].Value, m => m.Groups["default"].Value.Trim());
        foreach (string name in CommandLineOptions.Switches)
        {
            Assert.True(rows.TryGetValue(name, out var cell), $"README's configuration table has no row for --{name}");
            if (described.TryGetValue(name, out var text)) Assert.Equal(text, cell);
            else if (!Shipped.TryGetValue(name, out var value)) Assert.Equal("(none)", cell);
            else
            {
                // "0 (unlimited)", "\"\" (off)": the value, then what it means
                string shown = cell.Split(" (")[0].Trim('"');
                Assert.True(Same(value, shown), $"--{name}: the file says '{value}', README '{cell}'");
            }
        }
    }

    [Fact]
    public void A_hocon_config_file_sets_node_settings_and_the_switches_win()
    {
        string file = Write("node.conf", """
            akkacache {
              port = 7000
              maxmemory = 2gb
              hotkey-detection = off
              cluster-name = "prod-eu"
            }
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 3 s
            """);
        var options = NodeServer.LoadOptions(["--config", file, "--maxmemory", "4gb"]);
        Assert.Equal(7000, options.Port);
        Assert.Equal("4gb", options.MaxMemory);
        Assert.False(options.HotKeyDetection);
        Assert.Equal("prod-eu", options.ClusterName);
        Assert.Equal("allkeys-lru", options.MaxMemoryPolicy); // untouched: the shipped default
        Assert.Equal(file, options.ConfigFile); // its akka section goes to Akka
    }

    [Fact]
    public void A_json_config_file_still_works()
    {
        string file = Write("node.json", """{ "AkkaCache": { "Port": 7001, "HotKeyShare": 0.2 } }""");
        var options = NodeServer.LoadOptions(["--config", file]);
        Assert.Equal(7001, options.Port);
        Assert.Equal(0.2, options.HotKeyShare);
        Assert.Null(options.ConfigFile);
    }

    [Theory]
    [InlineData("akkacache { prot = 7000 }", "Unknown setting akkacache.prot in '")]
    [InlineData("akkacache { replicas = 9, cluster-enabled = yes }", "Invalid AkkaCache:Replicas 9: expected 0..5.")]
    [InlineData("akkacache { hotkey-share = 2 }", "HotKeyShare")]
    [InlineData("akkacache { port = { a = 1 } }", "Invalid akkacache.port in '")]
    [InlineData("akkacache { port = ", "AkkaCache:Port")]
    [InlineData("akkacache { port = ${nowhere} }", "Invalid configuration file '")]
    public void A_bad_hocon_file_is_refused_naming_the_setting(string text, string message)
    {
        string file = Write("bad.conf", text);
        var error = Assert.ThrowsAny<Exception>(() => NodeServer.LoadOptions(["--config", file]));
        Assert.True(error is InvalidOperationException, error.ToString());
        Assert.Contains(message, error.Message);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static PropertyInfo Property(string switchName)
    {
        var entry = CommandLineOptions.Parse(["--" + switchName, "x"]).Settings.Single().Key;
        return typeof(NodeOptions).GetProperty(entry[(NodeOptions.SectionName.Length + 1)..])!;
    }

    /// <summary>One default written two ways: "yes" and True, "1mb" and 1048576, "0.01" and 0.01.</summary>
    private static bool Same(string hocon, object? other)
    {
        string text = Convert.ToString(other, CultureInfo.InvariantCulture) ?? "";
        static string Bool(string s) => s.ToLowerInvariant() switch { "yes" or "on" => "true", "no" or "off" => "false", var v => v };
        if (string.Equals(Bool(hocon), Bool(text), StringComparison.OrdinalIgnoreCase)) return true;
        if (double.TryParse(hocon, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var b)) return a == b;
        try
        {
            return MemorySize.Parse(hocon, "x") == MemorySize.Parse(text, "x");
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\| `\w+` \| `--(?<switch>[a-z-]+)` \| (?<default>[^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
