using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Protocol.Tests")]
