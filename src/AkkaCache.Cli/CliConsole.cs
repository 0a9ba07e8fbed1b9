using Spectre.Console;

namespace AkkaCache.Cli;

/// <summary>Where the tool reads and writes: the process's console, or a test's writers.</summary>
public sealed class CliConsole
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public TextReader In { get; init; } = TextReader.Null;
    /// <summary>Whether a person can answer a confirmation prompt.</summary>
    public bool InputIsTerminal { get; init; }
    /// <summary>Whether live views (progress bars, the stats screen) can redraw in place.</summary>
    public bool OutputIsTerminal { get; init; }
    public Func<string, string?> Environment { get; init; } = _ => null;

    public static CliConsole FromSystemConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        InputIsTerminal = !Console.IsInputRedirected,
        OutputIsTerminal = !Console.IsOutputRedirected,
        Environment = System.Environment.GetEnvironmentVariable,
    };

    private IAnsiConsole? _ansi;

    /// <summary>Tables and progress bars; plain text without colours when the output is not a terminal.</summary>
    public IAnsiConsole Ansi => _ansi ??= CreateAnsi();

    private IAnsiConsole CreateAnsi()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = OutputIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = OutputIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = OutputIsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // a pipe or a test has no width: do not wrap tables at 80 columns
        if (!OutputIsTerminal) console.Profile.Width = 250;
        return console;
    }
}
