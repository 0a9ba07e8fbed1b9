using AkkaCache.Cli;

return await CliApp.RunAsync(args, CliConsole.FromSystemConsole());
