namespace AkkaCache.Server.Commands;

internal static partial class ServerCommands
{
    public static void Register(List<CommandDefinition> list)
    {
        _ = list;
    }
}
