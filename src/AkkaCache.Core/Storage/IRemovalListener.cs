namespace AkkaCache.Core.Storage;

/// <summary>
/// Told when the cache itself removes an entry (expiry or eviction), on the owning shard actor's thread, while the key's
/// bytes are still valid. Keyspace notifications use it; a table without a listener pays one null check per removal.
/// </summary>
public interface IRemovalListener
{
    void OnRemoved(ReadOnlySpan<byte> key, RemovalCause cause);
}
