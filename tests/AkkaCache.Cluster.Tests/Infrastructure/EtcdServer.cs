using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AkkaCache.Cluster.Tests.Infrastructure;

/// <summary>
/// A real single-member etcd on loopback, with its own data directory and free ports, so tests never meet the machine's etcd
/// (Debian's etcd-server package runs one on 2379) or each other.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private const int LogLinesKept = 200;

    private readonly string _executable;
    private readonly string _dataDir;
    private readonly string _name;
    private readonly int _peerPort;
    private readonly Queue<string> _log = new();
    private Process? _process;

    private EtcdServer(string executable)
    {
        _executable = executable;
        _name = "test-" + Guid.NewGuid().ToString("N")[..12];
        _dataDir = Path.Combine(Path.GetTempPath(), "akkacache-etcd-" + _name);
        var clientPort = FreePort();
        _peerPort = FreePort();
        while (_peerPort == clientPort) _peerPort = FreePort();
        ClientUrl = new Uri($"http://127.0.0.1:{clientPort}");
    }

    public Uri ClientUrl { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The etcd executable, or an exception telling how to install it: the test command installs it, so missing is a failure.</summary>
    public static string FindExecutable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "etcd");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            "etcd is not installed, and the cluster tests run against a real etcd. Install it with `./build.sh deps` " +
            "(Debian package etcd-server, which provides /usr/bin/etcd), or `sudo apt-get install -y etcd-server`.");
    }

    public static async Task<EtcdServer> StartAsync()
    {
        var server = new EtcdServer(FindExecutable());
        Directory.CreateDirectory(server._dataDir);
        try
        {
            await server.LaunchAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills etcd the hard way, as a crash or a lost machine would end it.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null) return;
        using (process)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts etcd again on the same data directory and ports: the same member, with its keys and leases.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning) throw new InvalidOperationException("etcd is still running");
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>The last lines etcd printed, for failure messages.</summary>
    public string RecentLog()
    {
        lock (_log) return string.Join('\n', _log);
    }

    private async Task LaunchAsync()
    {
        var peerUrl = $"http://127.0.0.1:{_peerPort.ToString(CultureInfo.InvariantCulture)}";
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--name", _name,
            "--data-dir", _dataDir,
            "--listen-client-urls", ClientUrl.AbsoluteUri.TrimEnd('/'),
            "--advertise-client-urls", ClientUrl.AbsoluteUri.TrimEnd('/'),
            "--listen-peer-urls", peerUrl,
            "--initial-advertise-peer-urls", peerUrl,
            "--initial-cluster", $"{_name}={peerUrl}",
            "--initial-cluster-state", "new",
            "--initial-cluster-token", _name,
            "--logger", "zap",
            "--log-outputs", "stderr",
        })
        {
            start.ArgumentList.Add(arg);
        }
        // etcd reads ETCD_* variables as flags: one left in the environment would change this test's etcd
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ETCD_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{_executable} could not start");
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        await WaitUntilAnsweringAsync(process);
    }

    private async Task WaitUntilAnsweringAsync(Process process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + StartDeadline;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with code {process.ExitCode} while starting:\n{RecentLog()}");
            }
            try
            {
                // /health only says true once the member has a leader and can serve the v3 API
                var health = await http.GetStringAsync(new Uri(ClientUrl, "/health"));
                if (health.Contains("\"true\"", StringComparison.Ordinal)) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"etcd did not answer on {ClientUrl} within {StartDeadline.TotalSeconds} s:\n{RecentLog()}");
            }
            await Task.Delay(50);
        }
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > LogLinesKept) _log.Dequeue();
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

/// <summary>One etcd shared by the tests that neither stop nor restart it; each test keeps to its own key prefix.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    private EtcdServer? _server;

    public EtcdServer Server => _server ?? throw new InvalidOperationException("the etcd fixture has not started");

    public Uri ClientUrl => Server.ClientUrl;

    public async Task InitializeAsync() => _server = await EtcdServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "etcd";
}
