using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Client.Tests")]
[assembly: InternalsVisibleTo("AkkaCache.Hosting")]
[assembly: InternalsVisibleTo("AkkaCache.Hosting.Tests")]
[assembly: InternalsVisibleTo("AkkaCache.Benchmarks")]
