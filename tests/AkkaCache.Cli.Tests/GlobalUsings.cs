// the server and cluster tests' socket client, polling helpers and process fixtures, linked into this project
global using AkkaCache.Cli;
global using AkkaCache.Client;
global using AkkaCache.Cluster.Tests.Infrastructure;
global using AkkaCache.Server.Tests.Infrastructure;
