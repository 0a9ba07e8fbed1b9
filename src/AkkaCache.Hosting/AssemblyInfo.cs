using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Hosting.Tests")]
[assembly: InternalsVisibleTo("AkkaCache.Benchmarks")]
