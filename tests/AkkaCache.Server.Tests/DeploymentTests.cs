using System.Diagnostics;
using System.Text.RegularExpressions;
using AkkaCache.Server.Configuration;
using AkkaCache.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace AkkaCache.Server.Tests;

/// <summary>
/// deploy/: the Kubernetes manifests are valid YAML, give the server only settings its configuration schema has (and
/// that validate), probe the health endpoint, outlast the graceful leave, and name only the documented images; the
/// systemd unit and environment file, and local-cluster.sh's switches, likewise.
/// </summary>
public sealed partial class DeploymentTests
{
    private const string ServerImage = "akkacache/akkacache-server:0.1.0";
    private const string EnvPrefix = "AKKACACHE__";

    private static readonly string Repo = Repository.Root;

    private static string Read(string relative) => File.ReadAllText(Path.Combine(Repo, relative));

    private static List<Dictionary<object, object>> Documents(string relative)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(Read(relative)));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _)) documents.Add(deserializer.Deserialize<Dictionary<object, object>>(parser));
        return documents;
    }

    private static IEnumerable<(string File, Dictionary<object, object> Document)> Manifests() =>
        Directory.GetFiles(Path.Combine(Repo, "deploy", "kubernetes"), "*.yaml").Order()
            .SelectMany(path => Documents(Path.GetRelativePath(Repo, path)).Select(d => (Path.GetFileName(path), d)));

    private static Dictionary<object, object> Map(object? node, string what) =>
        node as Dictionary<object, object> ?? throw new Xunit.Sdk.XunitException($"{what}: expected a mapping, got {node ?? "nothing"}");

    private static List<object> Seq(object? node, string what) =>
        node as List<object> ?? throw new Xunit.Sdk.XunitException($"{what}: expected a sequence, got {node ?? "nothing"}");

    private static object? At(Dictionary<object, object> map, params string[] path)
    {
        object? node = map;
        foreach (var key in path) node = node is Dictionary<object, object> m && m.TryGetValue(key, out var next) ? next : null;
        return node;
    }

    private static Dictionary<object, object> ServerContainer()
    {
        var statefulSet = Manifests().Single(m => (string?)m.Document["kind"] == "StatefulSet" && (string?)At(m.Document, "metadata", "name") == "akkacache").Document;
        return Seq(At(statefulSet, "spec", "template", "spec", "containers"), "containers").Select(c => Map(c, "container"))
            .Single(c => (string)c["image"] == ServerImage);
    }

    /// <summary>Binds settings into NodeOptions as the server does (unknown keys are errors) and validates them.</summary>
    private static NodeOptions Bind(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var options = new NodeOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(NodeOptions.SectionName)
            .Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        options.Validate();
        return options;
    }

    private static KeyValuePair<string, string?> FromEnvironment(string name, string value)
    {
        Assert.StartsWith(EnvPrefix, name);
        Assert.True(typeof(NodeOptions).GetProperty(name[EnvPrefix.Length..], System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is not null,
            $"{name} names no setting of NodeOptions");
        return new($"{NodeOptions.SectionName}:{name[EnvPrefix.Length..]}", value);
    }

    [Fact]
    public void Kubernetes_manifests_are_valid_yaml_with_kind_and_name()
    {
        var manifests = Manifests().ToList();
        Assert.Contains(manifests, m => m.File == "akkacache.yaml");
        Assert.DoesNotContain(manifests, m => m.File == "etcd.yaml");
        foreach (var (file, document) in manifests)
        {
            Assert.True(document.ContainsKey("apiVersion") && document.ContainsKey("kind"), $"{file}: a document without apiVersion or kind");
            if ((string)document["kind"] == "Kustomization")
            {
                foreach (var resource in Seq(document["resources"], "resources")) Assert.True(File.Exists(Path.Combine(Repo, "deploy", "kubernetes", (string)resource)), $"missing {resource}");
                continue;
            }
            Assert.False(string.IsNullOrEmpty(At(document, "metadata", "name") as string), $"{file}: {document["kind"]} without metadata.name");
        }
        var kinds = manifests.Select(m => $"{m.File}:{m.Document["kind"]}:{At(m.Document, "metadata", "name")}").ToList();
        Assert.Contains("akkacache.yaml:StatefulSet:akkacache", kinds);
        var service = manifests.Single(m => m.File == "akkacache.yaml" && (string)m.Document["kind"] == "Service").Document;
        Assert.Equal("None", At(service, "spec", "clusterIP"));
    }

    [Fact]
    public void The_server_container_gets_only_settings_of_the_schema_and_they_validate()
    {
        var container = ServerContainer();
        var env = Seq(container["env"], "env").Select(e => Map(e, "env entry")).ToList();
        var plain = env.Where(e => e.ContainsKey("value")).ToDictionary(e => (string)e["name"], e => (string)e["value"]);
        var settings = new List<KeyValuePair<string, string?>>();
        foreach (var entry in env)
        {
            string name = (string)entry["name"];
            if (!name.StartsWith(EnvPrefix, StringComparison.Ordinal))
            {
                // helper variables exist to be referenced by a setting
                Assert.Contains(plain.Values, v => v.Contains($"$({name})", StringComparison.Ordinal));
                continue;
            }
            string value = entry.TryGetValue("value", out var literal)
                ? Regex.Replace((string)literal, @"\$\((\w+)\)", m => m.Groups[1].Value switch { "POD_NAME" => "akkacache-0", "NAMESPACE" => "cache", var other => throw new Xunit.Sdk.XunitException($"$({other}) is not defined") })
                : name switch { "AKKACACHE__ZONE" => "eu-1a", _ => "from-a-secret" };
            settings.Add(FromEnvironment(name, value));
        }
        foreach (var argument in container.TryGetValue("args", out var args) ? Seq(args, "args").Cast<string>() : [])
            if (argument.StartsWith("--", StringComparison.Ordinal)) Assert.Contains(argument[2..], CommandLineOptions.Switches);

        var options = Bind(settings);
        Assert.True(options.IsClusterEnabled);
        Assert.Equal("akkacache-0", options.NodeId);
        Assert.Equal("akkacache-0.akkacache.cache.svc.cluster.local:6379", options.Announce);
        Assert.Equal(["akkacache-0.akkacache.cache.svc.cluster.local:17000", "akkacache-1.akkacache.cache.svc.cluster.local:17000"], options.SeedNodeList);
        Assert.Equal(17000, options.ClusterPort);
        Assert.Equal("0.0.0.0", options.Bind);

        // the probes ask the admin endpoint the node serves, on the port it serves it on
        var ports = Seq(container["ports"], "ports").Select(p => Map(p, "port")).ToDictionary(p => (string)p["name"], p => int.Parse((string)p["containerPort"]));
        Assert.Equal(options.AdminPort, ports["admin"]);
        Assert.Equal(options.Port, ports["resp"]);
        Assert.Equal("/health/ready", At(Map(container["readinessProbe"], "readinessProbe"), "httpGet", "path"));
        Assert.Equal("/health/live", At(Map(container["livenessProbe"], "livenessProbe"), "httpGet", "path"));
        Assert.All(new[] { "readinessProbe", "livenessProbe" }, probe => Assert.Equal("admin", At(Map(container[probe], probe), "httpGet", "port")));
    }

    [Fact]
    public void The_zone_comes_from_the_node_topology_label_through_the_downward_api()
    {
        var zone = Seq(ServerContainer()["env"], "env").Select(e => Map(e, "env entry")).Single(e => (string)e["name"] == EnvPrefix + "ZONE");
        Assert.Equal("metadata.labels['topology.kubernetes.io/zone']", At(zone, "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal(nameof(NodeOptions.Zone), "ZONE", StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void Termination_and_stop_timeouts_outlast_the_graceful_leave()
    {
        var statefulSet = Manifests().Single(m => m.File == "akkacache.yaml" && (string)m.Document["kind"] == "StatefulSet").Document;
        int grace = int.Parse((string)At(statefulSet, "spec", "template", "spec", "terminationGracePeriodSeconds")!);
        Assert.True(grace > NodeServer.GracefulLeaveTimeout.TotalSeconds, $"terminationGracePeriodSeconds {grace} <= the leave's {NodeServer.GracefulLeaveTimeout}");

        var unit = Unit(Read("deploy/systemd/akkacache.service"));
        Assert.True(int.Parse(unit["TimeoutStopSec"]) > NodeServer.GracefulLeaveTimeout.TotalSeconds);
        Assert.Equal("SIGTERM", unit["KillSignal"]);
        Assert.Contains("STOPSIGNAL SIGTERM", Read("deploy/docker/Dockerfile"));
    }

    [Fact]
    public void Images_are_the_documented_ones()
    {
        var images = new HashSet<string>();
        foreach (var (_, document) in Manifests())
        {
            if (At(document, "spec", "template", "spec", "containers") is not List<object> containers) continue;
            foreach (var container in containers) images.Add((string)Map(container, "container")["image"]);
        }
        Assert.Equal([ServerImage], images.Order());
        string readme = Read("README.md");
        foreach (var image in images) Assert.Contains($"`{image}`", readme);
        Assert.Contains($"-t {ServerImage}", Read("deploy/docker/Dockerfile"));
    }

    private static Dictionary<string, string> Unit(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] is not ('#' or '[') && l.Contains('='))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Systemd_unit_runs_the_server_with_an_environment_file_of_valid_settings()
    {
        var unit = Unit(Read("deploy/systemd/akkacache.service"));
        Assert.EndsWith("/akkacache-server", unit["ExecStart"]);
        Assert.Equal("/etc/akkacache/akkacache.env", unit["EnvironmentFile"]);
        Assert.Equal("2", unit["RestartPreventExitStatus"]);

        // the commented-out examples too: uncommenting one must give a valid setting
        var settings = Read("deploy/systemd/akkacache.env").Split('\n').Select(l => l.Trim().TrimStart('#'))
            .Where(l => l.StartsWith(EnvPrefix, StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).Select(p => FromEnvironment(p[0], p[1])).ToList();
        Assert.True(settings.Count >= 10);
        var options = Bind(settings);
        Assert.Equal(8080, options.AdminPort);
        Assert.Equal("http://otel-collector.internal:4317", options.OtlpEndpoint);
    }

    [Fact]
    public async Task Local_cluster_script_is_valid_bash_and_passes_only_known_switches()
    {
        string script = Read("deploy/local-cluster.sh");
        var switches = SwitchPattern().Matches(string.Join('\n', script.Split('\n').Where(l => l.Contains("args=(", StringComparison.Ordinal) || l.Contains("args+=(", StringComparison.Ordinal))))
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("admin-port", switches);
        Assert.Contains("cluster-enabled", switches);
        Assert.All(switches, s => Assert.Contains(s, CommandLineOptions.Switches));

        var check = Process.Start(new ProcessStartInfo("bash", ["-n", Path.Combine(Repo, "deploy", "local-cluster.sh")]) { RedirectStandardError = true })!;
        string errors = await check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, errors);
    }

    [GeneratedRegex(@"--([a-z][a-z-]+)")]
    private static partial Regex SwitchPattern();
}
