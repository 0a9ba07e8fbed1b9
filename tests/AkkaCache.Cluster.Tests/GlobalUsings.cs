// the server tests' socket client, clock and polling helpers, linked into this project
global using AkkaCache.Server.Tests.Infrastructure;
global using AkkaCache.Protocol;
