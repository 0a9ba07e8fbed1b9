namespace AkkaCache.Benchmarks.HitRate;

/// <summary>Reference policies that are not engine policies: offline optimal (Belady) and ARC.</summary>
internal static class ReferencePolicies
{
    /// <summary>
    /// Belady's optimal offline policy with bypass: on a miss the key is inserted and, if the cache is
    /// over capacity, the resident key (possibly the new one) whose next reference is furthest away goes.
    /// </summary>
    public static long OptimalHits(long[] trace, int capacity)
    {
        int n = trace.Length;
        int[] nextUse = new int[n];
        var lastSeen = new Dictionary<long, int>();
        for (int i = n - 1; i >= 0; i--)
        {
            nextUse[i] = lastSeen.TryGetValue(trace[i], out int at) ? at : int.MaxValue;
            lastSeen[trace[i]] = i;
        }

        var resident = new Dictionary<long, int>(capacity + 1); // key -> its next use
        var furthest = new PriorityQueue<long, long>(capacity + 1); // max-heap by next use (negated); stale entries skipped
        long hits = 0;
        for (int i = 0; i < n; i++)
        {
            long key = trace[i];
            if (resident.ContainsKey(key))
            {
                hits++;
            }

            resident[key] = nextUse[i];
            furthest.Enqueue(key, -(long)nextUse[i]);
            while (resident.Count > capacity)
            {
                furthest.TryDequeue(out long victim, out long priority);
                if (resident.TryGetValue(victim, out int use) && use == (int)-priority)
                {
                    resident.Remove(victim);
                }
            }

            if (furthest.Count > 4 * (capacity + 16))
            {
                // Drop stale heap entries now and then.
                furthest.Clear();
                foreach (KeyValuePair<long, int> entry in resident)
                {
                    furthest.Enqueue(entry.Key, -(long)entry.Value);
                }
            }
        }

        return hits;
    }

    /// <summary>ARC (Megiddo and Modha, 2003).</summary>
    public static long ArcHits(long[] trace, int capacity)
    {
        var t1 = new LinkedList<long>();
        var t2 = new LinkedList<long>();
        var b1 = new LinkedList<long>();
        var b2 = new LinkedList<long>();
        var where = new Dictionary<long, (LinkedList<long> List, LinkedListNode<long> Node)>();
        double p = 0;
        long hits = 0;

        void MoveToMru(long key, LinkedList<long> to)
        {
            if (where.TryGetValue(key, out var at))
            {
                at.List.Remove(at.Node);
            }

            where[key] = (to, to.AddFirst(key));
        }

        void DropLru(LinkedList<long> list)
        {
            long key = list.Last!.Value;
            list.RemoveLast();
            where.Remove(key);
        }

        void Replace(bool inB2)
        {
            if (t1.Count > 0 && (t1.Count > p || (inB2 && t1.Count == (int)p)))
            {
                long key = t1.Last!.Value;
                MoveToMru(key, b1);
            }
            else
            {
                long key = t2.Last!.Value;
                MoveToMru(key, b2);
            }
        }

        foreach (long key in trace)
        {
            if (where.TryGetValue(key, out var at))
            {
                if (at.List == t1 || at.List == t2)
                {
                    hits++;
                    MoveToMru(key, t2);
                    continue;
                }

                if (at.List == b1)
                {
                    p = Math.Min(capacity, p + Math.Max(1.0, (double)b2.Count / b1.Count));
                    Replace(inB2: false);
                    MoveToMru(key, t2);
                    continue;
                }

                p = Math.Max(0, p - Math.Max(1.0, (double)b1.Count / b2.Count));
                Replace(inB2: true);
                MoveToMru(key, t2);
                continue;
            }

            int l1 = t1.Count + b1.Count;
            if (l1 == capacity)
            {
                if (t1.Count < capacity)
                {
                    DropLru(b1);
                    Replace(inB2: false);
                }
                else
                {
                    DropLru(t1);
                }
            }
            else if (l1 < capacity && l1 + t2.Count + b2.Count >= capacity)
            {
                if (l1 + t2.Count + b2.Count == 2 * capacity)
                {
                    DropLru(b2);
                }

                Replace(inB2: false);
            }

            MoveToMru(key, t1);
        }

        return hits;
    }
}
