namespace AkkaCache.Server.Tests.Infrastructure;

/// <summary>The source tree the tests run from (found by AkkaCache.sln above the test binaries).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AkkaCache.sln"))) return dir.FullName;
        throw new InvalidOperationException("AkkaCache.sln not found above " + AppContext.BaseDirectory);
    }
}
