using AkkaCache.Benchmarks.HitRate;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/AkkaCache.Benchmarks -- hitrate --trace FILE --format lirs|int64 --capacity N[,N...] [--policy ...]
// dotnet run -c Release --project bench/AkkaCache.Benchmarks -- client-load --endpoint HOST:PORT[,HOST:PORT...] --test get|set [--tasks 50 --requests 200000 --value-size 64 --keys 100000 --connections 1 --hot-share 0 --warmup-requests 0]
// dotnet run -c Release --project bench/AkkaCache.Benchmarks -- client-alloc
// dotnet run -c Release --project bench/AkkaCache.Benchmarks -- stampede [--callers 1000 --load-ms 50 --endpoint HOST:PORT]
// dotnet run -c Release --project bench/AkkaCache.Benchmarks -- micro [BenchmarkDotNet switches, e.g. --filter *Dispatch*]
if (args.Length > 0 && args[0] == "hitrate") return HitRateCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "client-alloc") return await AkkaCache.Benchmarks.Client.ClientAllocationCommand.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "stampede") return await AkkaCache.Benchmarks.Client.StampedeCommand.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "client-load") return await AkkaCache.Benchmarks.Client.ClientLoadCommand.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(typeof(AkkaCache.Benchmarks.Micro.ShardDispatchBenchmarks).Assembly).Run(args[1..]);
    return 0;
}
Console.Error.WriteLine("usage: AkkaCache.Benchmarks hitrate --trace FILE --format lirs|int64 --capacity N[,N...] [--policy lru,w-tinylfu,...]");
Console.Error.WriteLine("       AkkaCache.Benchmarks client-load --endpoint HOST:PORT[,...] --test get|set [--tasks N --requests N --value-size N --keys N --connections N --hot-share S --warmup-requests N]");
Console.Error.WriteLine("       AkkaCache.Benchmarks client-alloc");
Console.Error.WriteLine("       AkkaCache.Benchmarks stampede [--callers N --load-ms N --endpoint HOST:PORT]");
Console.Error.WriteLine("       AkkaCache.Benchmarks micro [BenchmarkDotNet options]");
return 2;

