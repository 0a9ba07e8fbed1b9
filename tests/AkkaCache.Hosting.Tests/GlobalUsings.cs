// the server and cluster tests' helpers, linked into this project
global using AkkaCache.Cluster.Tests.Infrastructure;
global using AkkaCache.Server.Tests.Infrastructure;
global using AkkaCache.Hosting.Tests.Infrastructure;
