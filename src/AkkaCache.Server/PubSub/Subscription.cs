namespace AkkaCache.Server.PubSub;

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
