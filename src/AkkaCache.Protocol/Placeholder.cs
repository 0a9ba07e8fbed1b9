namespace AkkaCache.Protocol; internal static class Placeholder { }
