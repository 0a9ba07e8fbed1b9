using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AkkaCache.Cluster.Tests")]
[assembly: InternalsVisibleTo("akkacache-server")]
[assembly: InternalsVisibleTo("AkkaCache.Server.Tests")]
