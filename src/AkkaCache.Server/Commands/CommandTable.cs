namespace AkkaCache.Server.Commands;

/// <summary>Every command the node understands, looked up by name straight from the request bytes.</summary>
internal static class CommandTable
{
    private const int MaxNameLength = 32;

    // before ByName: static initializers run in textual order, and Build fills this one
    private static CommandDefinition[] Indexed = [];

    private static readonly Dictionary<string, CommandDefinition> ByName = Build();
    private static readonly Dictionary<string, CommandDefinition>.AlternateLookup<ReadOnlySpan<char>> ByNameSpan =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    public static IReadOnlyCollection<CommandDefinition> All => ByName.Values;

    /// <summary>Every command by its <see cref="CommandDefinition.Index"/>: per-command counters are arrays indexed alike.</summary>
    public static IReadOnlyList<CommandDefinition> ByIndex => Indexed;

    public static int Count => Indexed.Length;

    public static bool TryGet(ReadOnlySpan<byte> name, out CommandDefinition command)
    {
        command = null!;
        if (name.Length == 0 || name.Length > MaxNameLength) return false;
        Span<char> chars = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++) chars[i] = (char)name[i];
        return ByNameSpan.TryGetValue(chars, out command!);
    }

    public static bool TryGet(string name, out CommandDefinition command) => ByName.TryGetValue(name, out command!);

    private static Dictionary<string, CommandDefinition> Build()
    {
        var list = new List<CommandDefinition>();
        StringCommands.Register(list);
        LeaseCommands.Register(list);
        HotKeyCommands.Register(list);
        KeyCommands.Register(list);
        TransactionCommands.Register(list);
        ServerCommands.Register(list);
        ClusterCommands.Register(list);
        AdminCommands.Register(list);
        var table = new Dictionary<string, CommandDefinition>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < list.Count; i++)
        {
            list[i].Index = i;
            table.Add(list[i].Name, list[i]);
        }
        Indexed = [.. list];
        return table;
    }
}
