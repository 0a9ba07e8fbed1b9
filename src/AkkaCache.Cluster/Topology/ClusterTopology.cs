using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Core.Keyspace;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Topology;

/// <summary>This node's part in one shard.</summary>
public enum ShardRole : byte
{
    /// <summary>This node holds nothing of the shard.</summary>
    None,

    /// <summary>This node is the shard's primary: it serves reads and writes.</summary>
    Primary,

    /// <summary>This node holds a replica of the shard.</summary>
    Replica,

    /// <summary>The shard is moving to this node (it is the shard's MigratingTo): it answers requests that carry ASKING.</summary>
    Importing,
}

/// <summary>The live numbers CLUSTER INFO reports besides what the shard map says.</summary>
/// <param name="CanServe">This node holds a valid lease and a current map (with all slots assigned, cluster_state is ok).</param>
/// <param name="ShardsMigrating">Shards being moved right now (reported as cluster_shards_migrating).</param>
/// <param name="MigrationBytesSent">Bytes this node has streamed to shard importers (cluster_migration_bytes_sent).</param>
/// <param name="MessagesSent">Cluster bus messages sent (cluster_stats_messages_sent).</param>
/// <param name="MessagesReceived">Cluster bus messages received (cluster_stats_messages_received).</param>
public readonly record struct ClusterInfoCounters(bool CanServe, int ShardsMigrating, long MigrationBytesSent, long MessagesSent, long MessagesReceived);

/// <summary>Slots <paramref name="First"/>..<paramref name="Last"/> (inclusive), all held by the same primary and replicas.</summary>
public sealed record SlotRange(int First, int Last, ClusterMember Primary, ClusterMember[] Replicas)
{
    public int SlotCount => Last - First + 1;
}

/// <summary>
/// The Redis Cluster view of one <see cref="ShardMap"/>, as seen from one node: the replies of CLUSTER SLOTS, SHARDS,
/// NODES and INFO, and the endpoints -MOVED and -ASK send clients to. Immutable; built once per map epoch and then
/// shared by every connection, so everything a request needs is computed here, up front.
/// </summary>
/// <remarks>
/// Formats follow redis-server 7.0.15 byte for byte, with these differences (AkkaCache is not Redis):
/// <list type="bullet">
/// <item>CLUSTER NODES: the cluster bus port after '@' is 0 (there is no Redis cluster bus), ping-sent and pong-recv are
/// 0 (Redis shows millisecond timestamps), every node's config-epoch is the map epoch, and lines follow the map's member
/// order. A member that is primary of any shard is a master, even if it also holds replicas of other shards; a member
/// holding only replicas is a slave of the primary of the first shard it replicates; a member holding nothing is a
/// master without slots (like a fresh Redis node).</item>
/// <item>CLUSTER SHARDS: one entry per distinct (primary, replicas) combination, in slot order, then one slot-less entry
/// per member in none of them; replication-offset is 0, and health is "online" (or "fail" for a member the caller says
/// is not live) where Redis would say "loading" for a replica at offset 0.</item>
/// <item>CLUSTER SLOTS and SHARDS list as replicas only members that lead no shard, unless built to advertise every
/// replica: in Redis a node is a master or a replica, and clients act on that (see the constructor).</item>
/// <item>A shard whose primary, replica or migration target is not among the map's members is treated as not held by it.</item>
/// </list>
/// </remarks>
public sealed class ClusterTopology
{
    // Valid host names are at most 253 bytes: with "MOVED ", the slot and ':' + port a redirect fits here.
    private const int RedirectLineLimit = 300;

    private readonly ClusterMember? _myself;
    private readonly int _slotsPerShard;
    private readonly ClusterMember?[] _primaries;
    private readonly ClusterMember?[] _migrationTargets;
    private readonly byte[][] _primaryEndpoints;
    private readonly byte[][] _migrationEndpoints;
    private readonly ShardRole[] _roles;
    private readonly ShardEntry[] _shardEntries;
    private readonly string _nodesText;

    // CLUSTER SLOTS / SHARDS replies, encoded on first use (a benign race: both writers produce the same bytes).
    private byte[]? _slotsResp2;
    private byte[]? _slotsResp3;
    private byte[]? _shardsResp2;
    private byte[]? _shardsResp3;

    /// <summary>Builds the view of <paramref name="map"/> for the node whose <see cref="ClusterMember.Id"/> is <paramref name="myMemberId"/>.</summary>
    /// <param name="map">The shard map.</param>
    /// <param name="myMemberId">This node's member id ("" for a node the map does not name).</param>
    /// <param name="advertiseAllReplicas">
    /// List every replica in CLUSTER SLOTS and SHARDS, also members that lead other shards; otherwise only members that
    /// lead no shard (<c>--cluster-advertise-replicas</c>).
    /// </param>
    /// <exception cref="ArgumentException">The map's shard count does not divide 16384.</exception>
    public ClusterTopology(ShardMap map, string myMemberId, bool advertiseAllReplicas = false)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(myMemberId);
        int shardCount = map.ShardCount;
        if (shardCount > 0 && (shardCount > HashSlot.Count || HashSlot.Count % shardCount != 0))
        {
            throw new ArgumentException($"The shard map has {shardCount} shards; the shard count must divide {HashSlot.Count}.", nameof(map));
        }

        Map = map;
        Epoch = map.Epoch;
        _slotsPerShard = shardCount == 0 ? 0 : HashSlot.Count / shardCount;

        // Members by id (the first of duplicates wins, as ShardMap.Member does) and their endpoints, encoded once.
        var members = new List<ClusterMember>(map.Members.Length);
        var byId = new Dictionary<string, ClusterMember>(StringComparer.Ordinal);
        var endpoints = new Dictionary<ClusterMember, byte[]>(ReferenceEqualityComparer.Instance);
        foreach (ClusterMember member in map.Members)
        {
            if (member is null || !byId.TryAdd(member.Id, member)) continue;
            members.Add(member);
            endpoints.Add(member, Encoding.UTF8.GetBytes(member.Endpoint));
        }

        _myself = byId.GetValueOrDefault(myMemberId);
        CountKnownNodes = members.Count;

        // Per shard: resolved members, redirect endpoints and this node's role.
        _primaries = new ClusterMember?[shardCount];
        _migrationTargets = new ClusterMember?[shardCount];
        var replicas = new ClusterMember[shardCount][];
        _primaryEndpoints = new byte[shardCount][];
        _migrationEndpoints = new byte[shardCount][];
        _roles = new ShardRole[shardCount];
        for (int shard = 0; shard < shardCount; shard++)
        {
            ShardAssignment assignment = map.Shards[shard] ?? new ShardAssignment();
            ClusterMember? primary = Resolve(byId, assignment.Primary);
            ClusterMember? target = Resolve(byId, assignment.MigratingTo);
            ClusterMember[] shardReplicas = ResolveReplicas(byId, assignment.Replicas, primary);
            _primaries[shard] = primary;
            _migrationTargets[shard] = target;
            replicas[shard] = shardReplicas;
            _primaryEndpoints[shard] = primary is null ? [] : endpoints[primary];
            _migrationEndpoints[shard] = target is null ? [] : endpoints[target];
            _roles[shard] = RoleFor(_myself, primary, target, shardReplicas);
            if (primary is not null) SlotsAssigned += _slotsPerShard;
            if (primary is not null && target is not null && !ReferenceEquals(primary, target)) ShardsMigrating++;
        }

        // What CLUSTER SLOTS and SHARDS advertise. A Redis node is a master or a replica, never both: clients treat
        // a node listed as a replica anywhere as a replica everywhere (redis-py), or send it READONLY (StackExchange.Redis),
        // and then miss the slots it leads. So by default only members that lead no shard are shown as replicas.
        var leaders = new HashSet<ClusterMember>(_primaries.OfType<ClusterMember>(), ReferenceEqualityComparer.Instance);
        var advertised = new ClusterMember[shardCount][];
        for (int shard = 0; shard < shardCount; shard++)
        {
            ClusterMember[] shown = advertiseAllReplicas || replicas[shard].Length == 0
                ? replicas[shard]
                : [.. replicas[shard].Where(member => !leaders.Contains(member))];
            if (shard > 0 && ReferenceEquals(_primaries[shard], _primaries[shard - 1]) && SameMembers(shown, advertised[shard - 1]))
            {
                shown = advertised[shard - 1]; // share, so adjacent shards compare by reference below
            }
            advertised[shard] = shown;
        }

        Ranges = BuildRanges(advertised);
        ClusterSize = Ranges.Select(r => r.Primary).Distinct().Count();
        _shardEntries = BuildShardEntries(members);
        _nodesText = BuildNodesText(members, replicas);
    }

    /// <summary>The map this view was built from.</summary>
    public ShardMap Map { get; }

    /// <summary>The map's epoch (shown as every node's config-epoch and as cluster_current_epoch).</summary>
    public long Epoch { get; }

    /// <summary>This node as the map knows it, or null when the map does not name it.</summary>
    public ClusterMember? Myself => _myself;

    /// <summary>
    /// Contiguous slot ranges served by the same primary and advertised replicas, ascending; unassigned slots are in none.
    /// </summary>
    public IReadOnlyList<SlotRange> Ranges { get; }

    /// <summary>Members in the map (cluster_known_nodes).</summary>
    public int CountKnownNodes { get; }

    /// <summary>Members that are primary of at least one shard (cluster_size).</summary>
    public int ClusterSize { get; }

    /// <summary>Slots whose shard has a primary (cluster_slots_assigned).</summary>
    public int SlotsAssigned { get; }

    /// <summary>Shards with a primary that are moving to another member.</summary>
    public int ShardsMigrating { get; }

    /// <summary>Whether every one of the 16384 slots has a primary.</summary>
    public bool AllSlotsAssigned => SlotsAssigned == HashSlot.Count;

    /// <summary>The number of shards in the map.</summary>
    public int ShardCount => _roles.Length;

    /// <summary>This node's role for <paramref name="shard"/>.</summary>
    public ShardRole RoleOf(int shard) => _roles[shard];



    /// <summary>"host:port" of the primary of <paramref name="shard"/> (the -MOVED target); empty when the shard has none.</summary>
    public ReadOnlySpan<byte> PrimaryEndpoint(int shard) => _primaryEndpoints[shard];

    /// <summary>"host:port" of the member <paramref name="shard"/> is moving to (the -ASK target); empty when it is not moving.</summary>
    public ReadOnlySpan<byte> MigrationTargetEndpoint(int shard) => _migrationEndpoints[shard];

    /// <summary>"host:port" of the primary of <paramref name="shard"/>, or null when the shard has none.</summary>
    public string? PrimaryEndpointOfShard(int shard) => _primaries[shard]?.Endpoint;

    /// <summary>The shard of <paramref name="slot"/> in this map.</summary>
    public int ShardOfSlot(int slot) => slot / _slotsPerShard;

    /// <summary>Writes "-MOVED slot endpoint\r\n" (e.g. "-MOVED 3999 127.0.0.1:6381") without allocating.</summary>
    public static void WriteMovedError(RespWriter writer, int slot, ReadOnlySpan<byte> endpoint) =>
        WriteRedirect(writer, "MOVED "u8, slot, endpoint);

    /// <summary>Writes "-ASK slot endpoint\r\n" (e.g. "-ASK 3999 127.0.0.1:6381") without allocating.</summary>
    public static void WriteAskError(RespWriter writer, int slot, ReadOnlySpan<byte> endpoint) =>
        WriteRedirect(writer, "ASK "u8, slot, endpoint);

    /// <summary>
    /// The CLUSTER NODES text: one line per member, each ending in "\n". Every member is shown connected: the map names
    /// only members holding their lease (the leader drops the others).
    /// </summary>
    public string NodesText => _nodesText;

    /// <summary>Writes the CLUSTER NODES reply: a verbatim string in RESP3, a bulk string in RESP2 (as Redis).</summary>
    public void WriteNodes(RespWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteVerbatimString("txt", _nodesText);
    }

    /// <summary>The CLUSTER INFO text, "field:value\r\n" lines in Redis's order, then AkkaCache's own fields.</summary>
    public string InfoText(ClusterInfoCounters counters)
    {
        bool ok = counters.CanServe && AllSlotsAssigned;
        long myEpoch = _myself is null ? 0 : Epoch;
        var text = new StringBuilder(512);
        text.Append("cluster_state:").Append(ok ? "ok" : "fail").Append("\r\n");
        Field(text, "cluster_slots_assigned", SlotsAssigned);
        Field(text, "cluster_slots_ok", SlotsAssigned);
        Field(text, "cluster_slots_pfail", 0);
        Field(text, "cluster_slots_fail", 0);
        Field(text, "cluster_known_nodes", CountKnownNodes);
        Field(text, "cluster_size", ClusterSize);
        Field(text, "cluster_current_epoch", Epoch);
        Field(text, "cluster_my_epoch", myEpoch);
        Field(text, "cluster_stats_messages_sent", counters.MessagesSent);
        Field(text, "cluster_stats_messages_received", counters.MessagesReceived);
        Field(text, "total_cluster_links_buffer_limit_exceeded", 0);
        Field(text, "cluster_shards_migrating", counters.ShardsMigrating);
        Field(text, "cluster_migration_bytes_sent", counters.MigrationBytesSent);
        return text.ToString();

        static void Field(StringBuilder text, string name, long value) =>
            text.Append(name).Append(':').Append(value.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
    }

    /// <summary>Writes the CLUSTER INFO reply: a verbatim string in RESP3, a bulk string in RESP2 (as Redis).</summary>
    public void WriteInfo(RespWriter writer, ClusterInfoCounters counters)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteVerbatimString("txt", InfoText(counters));
    }

    /// <summary>
    /// Writes the CLUSTER SLOTS reply (Redis 7.0): per range [first, last, primary, replicas...], each node as
    /// [host, port, id, {}] (an empty metadata map).
    /// </summary>
    public void WriteSlots(RespWriter writer) => WriteCached(writer, ref _slotsResp2, ref _slotsResp3, static (topology, w) => topology.WriteSlotsCore(w));

    /// <summary>
    /// Writes the CLUSTER SHARDS reply (Redis 7.0): per shard a map {"slots": [first, last, ...], "nodes": [{id, port,
    /// ip, endpoint, [hostname,] role, replication-offset, health}...]}; in RESP2 maps are flat arrays.
    /// </summary>
    public void WriteShards(RespWriter writer) => WriteCached(writer, ref _shardsResp2, ref _shardsResp3, static (topology, w) => topology.WriteShardsCore(w));

    /// <summary>A reply encoded once per protocol version on first use, then copied (static writers: no delegate per call).</summary>
    private void WriteCached(RespWriter writer, ref byte[]? resp2, ref byte[]? resp3, Action<ClusterTopology, RespWriter> write)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ref byte[]? cache = ref writer.Version == RespVersion.Resp3 ? ref resp3 : ref resp2;
        writer.WriteRaw(Volatile.Read(ref cache) ?? Fill(ref cache, writer.Version, write));
    }

    // apart from WriteCached: the closure it needs would otherwise be allocated on every call, hit or miss
    private byte[] Fill(ref byte[]? cache, RespVersion version, Action<ClusterTopology, RespWriter> write) =>
        Encode(ref cache, version, w => write(this, w));

    // ---- replies ----

    private static void WriteRedirect(RespWriter writer, ReadOnlySpan<byte> kind, int slot, ReadOnlySpan<byte> endpoint)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, HashSlot.Count);
        if (endpoint.IsEmpty) throw new ArgumentException("A redirect needs an endpoint.", nameof(endpoint));

        Span<byte> line = stackalloc byte[RedirectLineLimit];
        int length = kind.Length + 6 + endpoint.Length; // 5 digits at most, and a space
        if (length <= line.Length)
        {
            kind.CopyTo(line);
            int pos = kind.Length;
            pos += RespNumbers.FormatInt64(slot, line[pos..]);
            line[pos++] = (byte)' ';
            endpoint.CopyTo(line[pos..]);
            writer.WriteError(line[..(pos + endpoint.Length)]);
            return;
        }

        // An endpoint longer than any valid host name: written in pieces, still without allocating.
        writer.WriteRaw("-"u8);
        writer.WriteRaw(kind);
        writer.WriteRaw(line[..RespNumbers.FormatInt64(slot, line)]);
        writer.WriteRaw(" "u8);
        writer.WriteRaw(endpoint);
        writer.WriteCrLf();
    }

    private void WriteSlotsCore(RespWriter writer)
    {
        writer.WriteArrayHeader(Ranges.Count);
        foreach (SlotRange range in Ranges)
        {
            writer.WriteArrayHeader(3 + range.Replicas.Length);
            writer.WriteInteger(range.First);
            writer.WriteInteger(range.Last);
            WriteSlotsNode(writer, range.Primary);
            foreach (ClusterMember replica in range.Replicas) WriteSlotsNode(writer, replica);
        }
    }

    private static void WriteSlotsNode(RespWriter writer, ClusterMember member)
    {
        writer.WriteArrayHeader(4);
        writer.WriteBulkString(member.Host);
        writer.WriteInteger(member.Port);
        writer.WriteBulkString(member.RedisId);
        writer.WriteMapHeader(0);
    }

    private void WriteShardsCore(RespWriter writer)
    {
        writer.WriteArrayHeader(_shardEntries.Length);
        foreach (ShardEntry entry in _shardEntries)
        {
            writer.WriteMapHeader(2);
            writer.WriteBulkString("slots"u8);
            writer.WriteArrayHeader(entry.Slots.Length * 2);
            foreach ((int first, int last) in entry.Slots)
            {
                writer.WriteInteger(first);
                writer.WriteInteger(last);
            }

            writer.WriteBulkString("nodes"u8);
            writer.WriteArrayHeader(1 + entry.Replicas.Length);
            WriteShardsNode(writer, entry.Primary, "master"u8);
            foreach (ClusterMember replica in entry.Replicas) WriteShardsNode(writer, replica, "replica"u8);
        }
    }

    private static void WriteShardsNode(RespWriter writer, ClusterMember member, ReadOnlySpan<byte> role)
    {
        bool hostname = !IPAddress.TryParse(member.Host, out _);
        writer.WriteMapHeader(hostname ? 8 : 7);
        writer.WriteBulkString("id"u8);
        writer.WriteBulkString(member.RedisId);
        writer.WriteBulkString("port"u8);
        writer.WriteInteger(member.Port);
        writer.WriteBulkString("ip"u8);
        writer.WriteBulkString(member.Host);
        writer.WriteBulkString("endpoint"u8);
        writer.WriteBulkString(member.Host);
        if (hostname)
        {
            writer.WriteBulkString("hostname"u8);
            writer.WriteBulkString(member.Host);
        }

        writer.WriteBulkString("role"u8);
        writer.WriteBulkString(role);
        writer.WriteBulkString("replication-offset"u8);
        writer.WriteInteger(0);
        writer.WriteBulkString("health"u8);
        writer.WriteBulkString("online"u8);
    }

    private static byte[] Encode(ref byte[]? cache, RespVersion version, Action<RespWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        write(new RespWriter(buffer, version));
        byte[] bytes = buffer.WrittenSpan.ToArray();
        Volatile.Write(ref cache, bytes);
        return bytes;
    }


    // ---- building ----

    private static ClusterMember? Resolve(Dictionary<string, ClusterMember> byId, string? id) =>
        id is not null && byId.TryGetValue(id, out ClusterMember? member) ? member : null;

    private static ClusterMember[] ResolveReplicas(Dictionary<string, ClusterMember> byId, string[]? ids, ClusterMember? primary)
    {
        if (ids is null || ids.Length == 0) return [];
        var resolved = new List<ClusterMember>(ids.Length);
        foreach (string id in ids)
        {
            ClusterMember? member = Resolve(byId, id);
            if (member is not null && !ReferenceEquals(member, primary) && !resolved.Contains(member)) resolved.Add(member);
        }

        return resolved.Count == 0 ? [] : resolved.ToArray();
    }

    private static bool SameMembers(ClusterMember[] a, ClusterMember[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i])) return false;
        }

        return true;
    }

    private static ShardRole RoleFor(ClusterMember? myself, ClusterMember? primary, ClusterMember? target, ClusterMember[] replicas)
    {
        if (myself is null) return ShardRole.None;
        if (ReferenceEquals(primary, myself)) return ShardRole.Primary;
        if (ReferenceEquals(target, myself)) return ShardRole.Importing;
        return Array.IndexOf(replicas, myself) >= 0 ? ShardRole.Replica : ShardRole.None;
    }

    private SlotRange[] BuildRanges(ClusterMember[][] replicas)
    {
        var ranges = new List<SlotRange>();
        for (int shard = 0; shard < _primaries.Length; shard++)
        {
            ClusterMember? primary = _primaries[shard];
            if (primary is null) continue;
            int first = shard * _slotsPerShard;
            int last = first + _slotsPerShard - 1;
            if (ranges.Count > 0)
            {
                SlotRange previous = ranges[^1];
                if (previous.Last == first - 1 && ReferenceEquals(previous.Primary, primary) && ReferenceEquals(previous.Replicas, replicas[shard]))
                {
                    ranges[^1] = previous with { Last = last };
                    continue;
                }
            }

            ranges.Add(new SlotRange(first, last, primary, replicas[shard]));
        }

        return ranges.ToArray();
    }

    // CLUSTER SHARDS: one entry per (primary, replicas) combination, slot ranges in order; then members in none.
    private ShardEntry[] BuildShardEntries(List<ClusterMember> members)
    {
        var entries = new List<(ClusterMember Primary, ClusterMember[] Replicas, List<(int, int)> Slots)>();
        var listed = new HashSet<ClusterMember>(ReferenceEqualityComparer.Instance);
        foreach (SlotRange range in Ranges)
        {
            int index = entries.FindIndex(e => ReferenceEquals(e.Primary, range.Primary) && SameMembers(e.Replicas, range.Replicas));
            if (index < 0)
            {
                entries.Add((range.Primary, range.Replicas, [(range.First, range.Last)]));
                listed.Add(range.Primary);
                listed.UnionWith(range.Replicas);
            }
            else
            {
                entries[index].Slots.Add((range.First, range.Last));
            }
        }

        foreach (ClusterMember member in members)
        {
            if (listed.Add(member)) entries.Add((member, [], []));
        }

        return entries.Select(e => new ShardEntry(e.Primary, e.Replicas, e.Slots.ToArray())).ToArray();
    }

    private string BuildNodesText(List<ClusterMember> members, ClusterMember[][] replicas)
    {
        string epoch = Epoch.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder(members.Count * 128);
        for (int i = 0; i < members.Count; i++)
        {
            ClusterMember member = members[i];
            bool myself = ReferenceEquals(member, _myself);
            var slots = new StringBuilder();

            // Slots of the shards it is primary of, adjacent shards merged ("0-5460", or "5" for a single slot).
            int runFirst = -1, runLast = -1;
            for (int shard = 0; shard < _primaries.Length; shard++)
            {
                if (!ReferenceEquals(_primaries[shard], member)) continue;
                int first = shard * _slotsPerShard;
                if (runFirst >= 0 && first == runLast + 1)
                {
                    runLast = first + _slotsPerShard - 1;
                    continue;
                }

                AppendSlotRange(slots, runFirst, runLast);
                runFirst = first;
                runLast = first + _slotsPerShard - 1;
            }

            AppendSlotRange(slots, runFirst, runLast);
            bool isMaster = runFirst >= 0;

            // Open slots, on this node's own line only, as Redis: "[slot->-target]" migrating, "[slot-<-source]" importing.
            if (myself)
            {
                for (int shard = 0; shard < _primaries.Length; shard++)
                {
                    ClusterMember? primary = _primaries[shard];
                    ClusterMember? target = _migrationTargets[shard];
                    if (primary is null || target is null || ReferenceEquals(primary, target)) continue;
                    bool migrating = ReferenceEquals(primary, member);
                    if (!migrating && !ReferenceEquals(target, member)) continue;
                    string arrow = migrating ? "->-" : "-<-";
                    string other = migrating ? target.RedisId : primary.RedisId;
                    for (int slot = shard * _slotsPerShard, end = slot + _slotsPerShard; slot < end; slot++)
                    {
                        slots.Append(" [").Append(slot.ToString(CultureInfo.InvariantCulture)).Append(arrow).Append(other).Append(']');
                    }
                }
            }

            // A member holding only replicas replicates the primary of the first shard it replicates.
            ClusterMember? master = null;
            if (!isMaster)
            {
                for (int shard = 0; shard < _primaries.Length && master is null; shard++)
                {
                    if (_primaries[shard] is not null && Array.IndexOf(replicas[shard], member) >= 0) master = _primaries[shard];
                }
            }

            string role = master is null ? "master" : "slave";
            text.Append(CultureInfo.InvariantCulture,
                $"{member.RedisId} {member.Host}:{member.Port}@0 {(myself ? "myself," : "")}{role} {master?.RedisId ?? "-"} 0 0 {epoch} connected{slots}\n");
        }

        return text.ToString();
    }

    private static void AppendSlotRange(StringBuilder text, int first, int last)
    {
        if (first < 0) return;
        text.Append(' ').Append(first.ToString(CultureInfo.InvariantCulture));
        if (last != first) text.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
    }

    private sealed record ShardEntry(ClusterMember Primary, ClusterMember[] Replicas, (int First, int Last)[] Slots);

    // A CLUSTER NODES line is Head [",fail"] Middle link-state Slots "\n".
}
