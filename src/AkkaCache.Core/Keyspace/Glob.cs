namespace AkkaCache.Core.Keyspace;

/// <summary>Redis glob patterns (KEYS, SCAN MATCH, CONFIG GET): <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a-z]</c>, <c>\x</c>.</summary>
public static class Glob
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        // iterative matcher with single-star backtracking: linear in practice, no recursion on hostile patterns
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                byte c = pattern[p];
                if (c == (byte)'*')
                {
                    while (p < pattern.Length && pattern[p] == (byte)'*') p++;
                    if (p == pattern.Length) return true;
                    starP = p;
                    starT = t;
                    continue;
                }
                if (MatchOne(pattern, ref p, text[t], ignoreCase, out int next))
                {
                    p = next;
                    t++;
                    continue;
                }
            }
            if (starP < 0) return false;
            p = starP;
            t = ++starT;
        }
        while (p < pattern.Length && pattern[p] == (byte)'*') p++;
        return p == pattern.Length;
    }

    /// <summary>For names that are .NET strings (CONFIG parameters, command names): Latin-1, as Redis sees their bytes.</summary>
    public static bool IsMatch(string pattern, string text, bool ignoreCase) =>
        IsMatch(System.Text.Encoding.Latin1.GetBytes(pattern), System.Text.Encoding.Latin1.GetBytes(text), ignoreCase);

    /// <summary>Matches one pattern element at <paramref name="p"/> against one byte; <paramref name="next"/> is the element after it.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, ref int p, byte value, bool ignoreCase, out int next)
    {
        byte c = pattern[p];
        if (c == (byte)'?')
        {
            next = p + 1;
            return true;
        }
        if (c == (byte)'[')
        {
            int i = p + 1;
            bool negate = i < pattern.Length && pattern[i] == (byte)'^';
            if (negate) i++;
            bool matched = false;
            while (i < pattern.Length && pattern[i] != (byte)']')
            {
                if (pattern[i] == (byte)'\\' && i + 1 < pattern.Length)
                {
                    i++;
                    if (Same(pattern[i], value, ignoreCase)) matched = true;
                    i++;
                }
                else if (i + 2 < pattern.Length && pattern[i + 1] == (byte)'-' && pattern[i + 2] != (byte)']')
                {
                    byte low = pattern[i], high = pattern[i + 2];
                    if (low > high) (low, high) = (high, low);
                    byte v = value;
                    if (ignoreCase) { v = Lower(v); low = Lower(low); high = Lower(high); }
                    if (v >= low && v <= high) matched = true;
                    i += 3;
                }
                else
                {
                    if (Same(pattern[i], value, ignoreCase)) matched = true;
                    i++;
                }
            }
            next = i < pattern.Length ? i + 1 : i; // an unterminated class ends the pattern, as in Redis
            return matched != negate;
        }
        if (c == (byte)'\\' && p + 1 < pattern.Length)
        {
            next = p + 2;
            return Same(pattern[p + 1], value, ignoreCase);
        }
        next = p + 1;
        return Same(c, value, ignoreCase);
    }

    private static bool Same(byte a, byte b, bool ignoreCase) => a == b || ignoreCase && Lower(a) == Lower(b);

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
}
