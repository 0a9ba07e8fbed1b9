namespace AkkaCache.Server.PubSub;

/// <summary>
/// Channel names as dictionary keys: byte arrays compared by content, and looked up straight from the request's
/// span, so a PUBLISH to a channel nobody listens to allocates nothing.
/// </summary>
internal sealed class ChannelNameComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ChannelNameComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || x is not null && y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = new HashCode();
        hash.AddBytes(alternate);
        return hash.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}

/// <summary>
/// One channel or pattern with subscribers. The subscriber list is copy-on-write: publishers read it without a lock,
/// subscription changes replace it under the registry's lock.
/// </summary>
internal sealed class Subscription(byte[] name, bool isPattern)
{
    public byte[] Name { get; } = name;

    public bool IsPattern { get; } = isPattern;

    private Subscriber[] _subscribers = [];

    public Subscriber[] Subscribers
    {
        get => Volatile.Read(ref _subscribers);
        set => Volatile.Write(ref _subscribers, value);
    }
}
