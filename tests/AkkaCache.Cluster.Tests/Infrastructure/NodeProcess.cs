using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AkkaCache.Cluster.Tests.Infrastructure;

/// <summary>
/// A real AkkaCache node process (the akkacache-server executable built next to the tests), so a test can kill -9 it,
/// pause it with SIGSTOP, or stop it with SIGTERM exactly as an operator or a crash would.
/// </summary>
public sealed partial class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(Process process, string id, int port)
    {
        _process = process;
        Id = id;
        Port = port;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Id { get; }
    public int Port { get; }

    /// <summary>The node's Akka.Remote port (0 when it was not started as a cluster node).</summary>
    public int ClusterPort { get; private set; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "akkacache-server");

    /// <summary>Starts the executable with <paramref name="args"/> and returns at once (use <see cref="WaitReadyAsync"/>).</summary>
    public static NodeProcess Start(string id, int port, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("akkacache-server could not start");
        return new NodeProcess(process, id, port);
    }

    /// <summary>Starts a cluster node on free ports (client and cluster port), seeded by <paramref name="seedNodes"/>.</summary>
    public static NodeProcess StartClusterNode(string seedNodes, string cluster, string id, int? port = null, int? clusterPort = null, IEnumerable<string>? extra = null)
    {
        int p = port ?? FreePort();
        int cp = clusterPort ?? FreePort();
        string[] args =
        [
            "--port", p.ToString(CultureInfo.InvariantCulture),
            "--cluster-enabled", "yes",
            "--cluster-port", cp.ToString(CultureInfo.InvariantCulture),
            "--seed-nodes", seedNodes,
            "--cluster-name", cluster,
            "--node-id", id,
            "--announce", $"127.0.0.1:{p}",
            .. extra ?? [],
        ];
        var node = Start(id, p, args);
        node.ClusterPort = cp;
        return node;
    }

    public async Task WaitReadyAsync(TimeSpan? deadline = null)
    {
        await Poll.UntilAsync(() => HasExited || Output.Contains("ready, accepting connections", StringComparison.Ordinal),
            $"node {Id} to start", deadline ?? TimeSpan.FromSeconds(60));
        if (HasExited) throw new InvalidOperationException($"node {Id} exited with {ExitCode}: {Output}");
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    // Linux signal numbers; sent with libc's kill(2), so the tests need no procps on the machine
    private const int SigCont = 18, SigStop = 19, SigTerm = 15;

    public void Pause() => Signal(SigStop);

    public void Resume() => Signal(SigCont);

    public void Terminate() => Signal(SigTerm);

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0 && !_process.HasExited)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public async Task WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            try { await WaitForExitAsync(TimeSpan.FromSeconds(10)); } catch (OperationCanceledException) { }
        }
        _process.Dispose();
    }
}
