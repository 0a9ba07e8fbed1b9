namespace AkkaCache.Server.Network;

/// <summary>How many bytes an unfinished multibulk request needs at least, read from the headers that have arrived.</summary>
internal static class RequestSize
{
    public static long LowerBound(ReadOnlySpan<byte> request)
    {
        if (request.IsEmpty || request[0] != (byte)'*') return 0;
        int position = 0;
        if (!TryReadLength(request, ref position, out long count)) return 0;
        long known = position;
        for (long i = 0; i < count; i++)
        {
            if (position >= request.Length || request[position] != (byte)'$') return known;
            if (!TryReadLength(request, ref position, out long length) || length < 0) return known;
            long end = position + length + 2;
            if (end > request.Length) return end;
            position = (int)end;
            known = end;
        }
        return known;
    }

    /// <summary>Reads "&lt;prefix&gt;digits\r\n" at position.</summary>
    private static bool TryReadLength(ReadOnlySpan<byte> data, ref int position, out long value)
    {
        value = 0;
        int i = position + 1;
        bool negative = i < data.Length && data[i] == (byte)'-';
        if (negative) i++;
        int digits = 0;
        while (i < data.Length && data[i] >= (byte)'0' && data[i] <= (byte)'9' && digits < 18)
        {
            value = value * 10 + (data[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || i + 1 >= data.Length || data[i] != (byte)'\r' || data[i + 1] != (byte)'\n') return false;
        if (negative) value = -value;
        position = i + 2;
        return true;
    }
}
