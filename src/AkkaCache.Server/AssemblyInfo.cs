using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Server.Tests")]
[assembly: InternalsVisibleTo("AkkaCache.Benchmarks")]
[assembly: InternalsVisibleTo("AkkaCache.Cluster.Tests")]
