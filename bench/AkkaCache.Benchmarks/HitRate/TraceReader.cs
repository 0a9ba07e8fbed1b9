using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace AkkaCache.Benchmarks.HitRate;

/// <summary>Reads cache traces (gzip) into an array of keys.</summary>
internal static class TraceReader
{
    /// <summary>Reads a trace: <c>lirs</c> = text, one integer key per line, lines <c>*</c> skipped; <c>int64</c> = big-endian int64 keys back to back.</summary>
    public static long[] Read(string path, string format)
    {
        using FileStream file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        return format switch
        {
            "lirs" => ReadLirs(gzip),
            "int64" => ReadInt64(gzip),
            _ => throw new ArgumentException($"unknown trace format '{format}' (lirs|int64)", nameof(format)),
        };
    }

    private static long[] ReadLirs(Stream stream)
    {
        var keys = new List<long>(1 << 16);
        using var reader = new StreamReader(stream);
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty || text is "*")
            {
                continue;
            }

            keys.Add(long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture));
        }

        return [.. keys];
    }

    private static long[] ReadInt64(Stream stream)
    {
        var keys = new List<long>(1 << 16);
        byte[] buffer = new byte[1 << 16];
        int filled = 0;
        while (true)
        {
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                break;
            }

            filled += read;
            int whole = filled & ~7;
            for (int i = 0; i < whole; i += 8)
            {
                keys.Add(BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(i, 8)));
            }

            int rest = filled - whole;
            buffer.AsSpan(whole, rest).CopyTo(buffer);
            filled = rest;
        }

        if (filled != 0)
        {
            throw new InvalidDataException($"int64 trace has {filled} trailing bytes");
        }

        return [.. keys];
    }
}
