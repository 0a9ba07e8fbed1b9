using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Core.Tests")]
[assembly: InternalsVisibleTo("AkkaCache.Benchmarks")]
