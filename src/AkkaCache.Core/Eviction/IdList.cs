namespace AkkaCache.Core.Eviction;

/// <summary>Head (least recent) and tail (most recent) of an intrusive doubly-linked list of int ids.</summary>
internal struct IdListEnds
{
    public int Head;
    public int Tail;

    public static IdListEnds Empty => new() { Head = IdList.None, Tail = IdList.None };

    public readonly bool IsEmpty => Head < 0;
}

/// <summary>
/// Operations on intrusive doubly-linked lists whose links live in shared prev/next arrays indexed by
/// id. Several lists may share the same arrays (an id is in at most one). <see cref="None"/> ends a
/// list; <see cref="Unlinked"/> in prev marks an id that is in no list.
/// </summary>
internal static class IdList
{
    public const int None = -1;
    public const int Unlinked = int.MinValue;

    public static bool IsLinked(int[] prev, int id) => prev[id] != Unlinked;

    public static void AddLast(ref IdListEnds list, int[] prev, int[] next, int id)
    {
        int tail = list.Tail;
        prev[id] = tail;
        next[id] = None;
        if (tail >= 0)
        {
            next[tail] = id;
        }
        else
        {
            list.Head = id;
        }

        list.Tail = id;
    }

    public static void Remove(ref IdListEnds list, int[] prev, int[] next, int id)
    {
        int p = prev[id];
        int n = next[id];
        if (p >= 0)
        {
            next[p] = n;
        }
        else
        {
            list.Head = n;
        }

        if (n >= 0)
        {
            prev[n] = p;
        }
        else
        {
            list.Tail = p;
        }

        prev[id] = Unlinked;
        next[id] = None;
    }

    public static void MoveToLast(ref IdListEnds list, int[] prev, int[] next, int id)
    {
        if (list.Tail == id)
        {
            return;
        }

        Remove(ref list, prev, next, id);
        AddLast(ref list, prev, next, id);
    }
}
