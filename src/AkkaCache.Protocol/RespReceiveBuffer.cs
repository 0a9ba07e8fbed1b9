namespace AkkaCache.Protocol;

/// <summary>
/// The client side's receive buffer: bytes arrive at the end, whole replies are consumed from the start. Room is made
/// by moving the unread bytes to the front, or by doubling when they fill it; a buffer grown for one big reply is
/// given back once everything has been read.
/// </summary>
public sealed class RespReceiveBuffer(int initialSize = 16 * 1024)
{
    private const int RetainedSize = 256 * 1024;
    private byte[] _buffer = new byte[initialSize];
    private int _start, _end;

    /// <summary>The bytes received and not consumed yet.</summary>
    public ReadOnlySpan<byte> Unread => _buffer.AsSpan(_start, _end - _start);

    /// <summary>The same bytes as memory; they stay put until the next <see cref="FreeSpace"/>.</summary>
    public ReadOnlyMemory<byte> UnreadMemory => _buffer.AsMemory(_start, _end - _start);

    public int UnreadCount => _end - _start;

    /// <summary>Where the next receive writes; call <see cref="Received"/> with the count it got.</summary>
    public Memory<byte> FreeSpace()
    {
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        return _buffer.AsMemory(_end);
    }

    public void Received(int count) => _end += count;

    public void Consume(int count)
    {
        _start += count;
        if (_start < _end) return;
        _start = _end = 0;
        if (_buffer.Length > RetainedSize) _buffer = new byte[initialSize];
    }
}
