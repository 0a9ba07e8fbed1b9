using System.Runtime.CompilerServices;

namespace AkkaCache.Protocol;

/// <summary>
/// Reusable holder of one parsed command's arguments as (offset, length) ranges. One instance per connection,
/// reused for every command: it grows its internal arrays only when a command has more (or, for inline
/// commands, longer) arguments than any before, so steady-state parsing allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// For multibulk requests (everything real clients send) the ranges point into the span given to
/// <see cref="RespRequestParser.TryParse"/>, so the argument bytes are never copied.
/// </para>
/// <para>
/// Inline requests ("SET a b\r\n", typed by people) may contain quotes and escapes, whose decoded bytes do not
/// exist in the source. Their arguments are therefore decoded into a buffer owned by this instance and
/// <see cref="IsOwnedCopy"/> is true; <see cref="Get"/> handles both cases transparently, whereas
/// <see cref="Range"/> is then relative to that owned buffer, not to the source. Use <see cref="Get"/>.
/// </para>
/// <para>
/// The instance also remembers how far an <see cref="RespParseStatus.Incomplete"/> parse got, so that the next
/// call (with the same bytes from the same start, plus more) resumes instead of rescanning a command with many
/// arguments from its beginning. <see cref="Clear"/> forgets that progress.
/// </para>
/// </remarks>
public sealed class RespArguments
{
    private (int Offset, int Length)[] _ranges;
    private byte[] _owned = [];
    private int _count;

    // Resume state after Incomplete (see RespRequestParser). Zero PendingKind means "nothing pending".
    internal int PendingKind;
    internal int PendingDeclared;
    internal int PendingParsed;
    internal int PendingPosition;

    internal const int PendingMultibulk = 1;
    internal const int PendingInline = 2;

    /// <summary>Creates an instance with room for <paramref name="initialCapacity"/> arguments.</summary>
    public RespArguments(int initialCapacity = 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 1);
        _ranges = new (int, int)[initialCapacity];
    }

    /// <summary>Number of arguments of the last completely parsed command (0 after Incomplete or Error).</summary>
    public int Count => _count;

    /// <summary>
    /// True when the arguments were decoded into an internal buffer (inline commands) instead of being ranges of
    /// the parsed source; <see cref="Range"/> is then relative to that buffer.
    /// </summary>
    public bool IsOwnedCopy { get; private set; }

    /// <summary>
    /// The bytes of argument <paramref name="index"/>. <paramref name="source"/> must be the span the command was
    /// parsed from (ignored for inline commands, whose arguments live in an internal buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Get(ReadOnlySpan<byte> source, int index)
    {
        if ((uint)index >= (uint)_count)
        {
            ThrowIndex(index);
        }

        (int offset, int length) = _ranges[index];
        return IsOwnedCopy ? new ReadOnlySpan<byte>(_owned, offset, length) : source.Slice(offset, length);
    }

    /// <summary>
    /// Position of argument <paramref name="index"/>: within the parsed source, or within the internal buffer when
    /// <see cref="IsOwnedCopy"/> is true.
    /// </summary>
    public (int Offset, int Length) Range(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            ThrowIndex(index);
        }

        return _ranges[index];
    }

    /// <summary>Forgets the arguments and any pending partial parse.</summary>
    public void Clear()
    {
        _count = 0;
        IsOwnedCopy = false;
        PendingKind = 0;
    }

    // ---- mutators used by the parser ----

    // Stores argument i's range, growing the array by doubling. Growth is driven by arguments that actually
    // arrived, never by the declared count, so "*1000000\r\n" alone cannot make us allocate megabytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Set(int index, int offset, int length)
    {
        (int, int)[] ranges = _ranges;
        if ((uint)index >= (uint)ranges.Length)
        {
            ranges = Grow(index);
        }

        ranges[index] = (offset, length);
    }

    internal void Complete(int count, bool owned)
    {
        _count = count;
        IsOwnedCopy = owned;
        PendingKind = 0;
    }

    internal void ResetForParse()
    {
        _count = 0;
        IsOwnedCopy = false;
    }

    // An owned decoding buffer of at least `length` bytes; decoded inline arguments never exceed the line.
    internal byte[] OwnedBuffer(int length)
    {
        if (_owned.Length < length)
        {
            _owned = new byte[Math.Max(length, Math.Max(64, _owned.Length * 2))];
        }

        return _owned;
    }

    // The parser writes ranges directly into this array (growing it with Grow when an index is past its end).
    internal (int Offset, int Length)[] Ranges => _ranges;

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal (int Offset, int Length)[] Grow(int index)
    {
        int size = Math.Max(_ranges.Length * 2, index + 1);
        Array.Resize(ref _ranges, size);
        return _ranges;
    }

    private static void ThrowIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, "No such argument in the parsed command.");
}
