using System.Text;

namespace AkkaCache.Client;

/// <summary>A key: a string (sent as UTF-8) or raw bytes. Converts implicitly from both, so every call takes either.</summary>
public readonly struct CacheKey
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;

    public CacheKey(string key) => _text = key ?? throw new ArgumentNullException(nameof(key));
    public CacheKey(ReadOnlyMemory<byte> key) => _bytes = key;

    public static implicit operator CacheKey(string key) => new(key);
    public static implicit operator CacheKey(byte[] key) => new(key ?? throw new ArgumentNullException(nameof(key)));
    public static implicit operator CacheKey(ReadOnlyMemory<byte> key) => new(key);

    internal bool IsText => _text is not null;
    internal string? Text => _text;
    internal ReadOnlyMemory<byte> Bytes => _bytes;

    internal int ByteCount => _text is null ? _bytes.Length : Encoding.UTF8.GetByteCount(_text);

    public override string ToString() => _text ?? Encoding.UTF8.GetString(_bytes.Span);
}

/// <summary>A value: raw bytes, or a string sent as UTF-8. Converts implicitly from both.</summary>
public readonly struct CacheValue
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;

    public CacheValue(string value) => _text = value ?? throw new ArgumentNullException(nameof(value));
    public CacheValue(ReadOnlyMemory<byte> value) => _bytes = value;

    public static implicit operator CacheValue(string value) => new(value);
    public static implicit operator CacheValue(byte[] value) => new(value ?? throw new ArgumentNullException(nameof(value)));
    public static implicit operator CacheValue(ReadOnlyMemory<byte> value) => new(value);

    internal string? Text => _text;
    internal ReadOnlyMemory<byte> Bytes => _bytes;
}

/// <summary>A value with the version AC.CAS compares (memcached's gets/cas).</summary>
public sealed record VersionedValue(byte[] Value, long Version);
