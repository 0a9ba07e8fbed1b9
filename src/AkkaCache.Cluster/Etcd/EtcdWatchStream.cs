using System.Buffers;
using System.Text.Json;

namespace AkkaCache.Cluster.Etcd;

/// <summary>
/// Splits the gateway's watch response into its JSON messages. The gateway writes one object per line, but HTTP chunks need not
/// end on a line, so messages are found by their JSON structure, not by newlines.
/// </summary>
internal sealed class EtcdWatchStream : IDisposable
{
    private const int InitialBufferSize = 16 * 1024;

    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    private int _start;
    private int _end;

    public EtcdWatchStream(Stream stream) => _stream = stream;

    /// <summary>
    /// Reads the next message and returns its events; the "created" acknowledgement and progress notifications have none.
    /// Throws when etcd ended or cancelled the watch.
    /// </summary>
    public async ValueTask<IReadOnlyList<EtcdWatchEvent>> ReadEventsAsync(CancellationToken ct)
    {
        while (true)
        {
            if (TryReadMessage(out var events)) return events;
            MakeRoom();
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
            // the stream only ends when etcd goes away: a live watch is never closed from etcd's side, not even a cancelled one
            if (read == 0) throw new EtcdException("etcd closed the watch stream");
            _end += read;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private bool TryReadMessage(out IReadOnlyList<EtcdWatchEvent> events)
    {
        events = [];
        while (_start < _end && _buffer[_start] is 0x20 or 0x0a or 0x0d or 0x09) _start++;
        if (_start == _end) return false;

        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), isFinalBlock: false, state: default);
        try
        {
            var probe = reader;
            if (!probe.Read() || !probe.TrySkip()) return false;
            using var message = JsonDocument.ParseValue(ref reader);
            _start += (int)reader.BytesConsumed;
            events = Interpret(message.RootElement);
            return true;
        }
        catch (JsonException e)
        {
            throw new EtcdException("etcd sent a watch message that is not JSON", e);
        }
    }

    private void MakeRoom()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end < _buffer.Length) return;
        // one message holds a whole event batch, which can exceed any fixed buffer
        var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _end).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    private static IReadOnlyList<EtcdWatchEvent> Interpret(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object) throw new EtcdException("etcd sent an unexpected watch message: " + message.GetRawText());
        if (message.TryGetProperty("error", out _)) throw EtcdJson.Error(message, 0);
        if (!message.TryGetProperty("result", out var result)) throw new EtcdException("etcd sent a watch message without a result: " + message.GetRawText());

        var compactRevision = EtcdJson.Int64(result, "compact_revision");
        if (compactRevision > 0) throw new EtcdCompactedException(compactRevision);
        if (EtcdJson.Bool(result, "canceled"))
        {
            throw new EtcdException("etcd cancelled the watch: " + (EtcdJson.String(result, "cancel_reason") ?? "no reason given"));
        }

        if (!result.TryGetProperty("events", out var array) || array.ValueKind != JsonValueKind.Array) return [];
        var events = new List<EtcdWatchEvent>(array.GetArrayLength());
        foreach (var e in array.EnumerateArray())
        {
            // PUT is the enum's zero value, which protobuf JSON leaves out
            var type = EtcdJson.String(e, "type") == "DELETE" ? EtcdEventType.Delete : EtcdEventType.Put;
            if (!e.TryGetProperty("kv", out var kv)) throw new EtcdException("etcd sent a watch event without a key: " + e.GetRawText());
            events.Add(new EtcdWatchEvent(type, EtcdJson.KeyValue(kv)));
        }
        return events;
    }
}
