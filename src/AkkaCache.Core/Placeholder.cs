namespace AkkaCache.Core; internal static class Placeholder { }
