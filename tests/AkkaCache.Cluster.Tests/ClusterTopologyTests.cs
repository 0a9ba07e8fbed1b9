using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using AkkaCache.Cluster.Sharding;
using AkkaCache.Cluster.Topology;
using AkkaCache.Protocol;

namespace AkkaCache.Cluster.Tests;

/// <summary>
/// CLUSTER SLOTS / SHARDS / NODES / INFO and -MOVED / -ASK, compared with replies captured from redis-server 7.0.15
/// (Debian redis-server 5:7.0.15-1~deb12u10): a 6-node cluster made by `redis-cli --cluster create ... --cluster-replicas 1`,
/// node 127.0.0.1:30001 asked over a raw socket in RESP2 and after HELLO 3, with slots 100 and 101 set MIGRATING to
/// 127.0.0.1:30002; and a fresh cluster-enabled node with no slots. The map below mirrors that cluster with one shard
/// per slot, so the replies can be compared byte for byte.
/// </summary>
public sealed class ClusterTopologyTests
{
    // ---- captured from redis-server 7.0.15 ----

    private const string RedisSlotsResp2 =
        "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$40\r\n2db23a771e7fb9f4cc4b6d547299fbe6750decd7\r\n" +
        "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30006\r\n$40\r\ndd4a9a0a10f77ae1d18fae4bb6be21614788299d\r\n*0\r\n" +
        "*4\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:30002\r\n$40\r\n221d838701ebb418f976ac38b877d4671641ed67\r\n" +
        "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30004\r\n$40\r\n1f2662954e024a7a6614a1e01bba6b235a1b3792\r\n*0\r\n" +
        "*4\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:30003\r\n$40\r\n147973a50aee303e32606ed42dd3f2950c99f5b0\r\n" +
        "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30005\r\n$40\r\n6bd6fba38b9eb5662c569ef9d816d65b1118cd6a\r\n*0\r\n";

    private const string RedisShardsResp2 =
        "*3\r\n*4\r\n$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*2\r\n*14\r\n$2\r\nid\r\n$40\r\n221d838701ebb418f976ac38b877d4671641ed67\r\n" +
        "$4\r\nport\r\n:30002\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\n" +
        "master\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*14\r\n$2\r\nid\r\n$40\r\n" +
        "1f2662954e024a7a6614a1e01bba6b235a1b3792\r\n$4\r\nport\r\n:30004\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n" +
        "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:294\r\n" +
        "$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:5460\r\n$5\r\nnodes\r\n*2\r\n*14\r\n$2\r\nid\r\n" +
        "$40\r\n2db23a771e7fb9f4cc4b6d547299fbe6750decd7\r\n$4\r\nport\r\n:30001\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n" +
        "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:294\r\n" +
        "$6\r\nhealth\r\n$6\r\nonline\r\n*14\r\n$2\r\nid\r\n$40\r\ndd4a9a0a10f77ae1d18fae4bb6be21614788299d\r\n" +
        "$4\r\nport\r\n:30006\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\n" +
        "replica\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*2\r\n" +
        ":10923\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n*14\r\n$2\r\nid\r\n$40\r\n147973a50aee303e32606ed42dd3f2950c99f5b0\r\n" +
        "$4\r\nport\r\n:30003\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\n" +
        "master\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*14\r\n$2\r\nid\r\n$40\r\n" +
        "6bd6fba38b9eb5662c569ef9d816d65b1118cd6a\r\n$4\r\nport\r\n:30005\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n" +
        "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:294\r\n" +
        "$6\r\nhealth\r\n$6\r\nonline\r\n";

    private const string RedisSlotsResp3 =
        "*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30001\r\n$40\r\n2db23a771e7fb9f4cc4b6d547299fbe6750decd7\r\n" +
        "%0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30006\r\n$40\r\ndd4a9a0a10f77ae1d18fae4bb6be21614788299d\r\n%0\r\n" +
        "*4\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:30002\r\n$40\r\n221d838701ebb418f976ac38b877d4671641ed67\r\n" +
        "%0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30004\r\n$40\r\n1f2662954e024a7a6614a1e01bba6b235a1b3792\r\n%0\r\n" +
        "*4\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:30003\r\n$40\r\n147973a50aee303e32606ed42dd3f2950c99f5b0\r\n" +
        "%0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30005\r\n$40\r\n6bd6fba38b9eb5662c569ef9d816d65b1118cd6a\r\n%0\r\n";

    private const string RedisShardsResp3 =
        "*3\r\n%2\r\n$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*2\r\n%7\r\n$2\r\nid\r\n$40\r\n221d838701ebb418f976ac38b877d4671641ed67\r\n" +
        "$4\r\nport\r\n:30002\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\n" +
        "master\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%7\r\n$2\r\nid\r\n$40\r\n1f2662954e024a7a6614a1e01bba6b235a1b3792\r\n" +
        "$4\r\nport\r\n:30004\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\n" +
        "replica\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%2\r\n$5\r\nslots\r\n*2\r\n" +
        ":0\r\n:5460\r\n$5\r\nnodes\r\n*2\r\n%7\r\n$2\r\nid\r\n$40\r\n2db23a771e7fb9f4cc4b6d547299fbe6750decd7\r\n" +
        "$4\r\nport\r\n:30001\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\n" +
        "master\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%7\r\n$2\r\nid\r\n$40\r\ndd4a9a0a10f77ae1d18fae4bb6be21614788299d\r\n" +
        "$4\r\nport\r\n:30006\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\n" +
        "replica\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%2\r\n$5\r\nslots\r\n*2\r\n" +
        ":10923\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n%7\r\n$2\r\nid\r\n$40\r\n147973a50aee303e32606ed42dd3f2950c99f5b0\r\n" +
        "$4\r\nport\r\n:30003\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\n" +
        "master\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%7\r\n$2\r\nid\r\n$40\r\n6bd6fba38b9eb5662c569ef9d816d65b1118cd6a\r\n" +
        "$4\r\nport\r\n:30005\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\n" +
        "replica\r\n$18\r\nreplication-offset\r\n:294\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";

    // CLUSTER NODES from 127.0.0.1:30001 ("myself"), slots 100 and 101 migrating to 30002.
    private const string RedisNodes =
        "221d838701ebb418f976ac38b877d4671641ed67 127.0.0.1:30002@40002 master - 0 1795333796958 2 connected 5461-10922\n" +
        "6bd6fba38b9eb5662c569ef9d816d65b1118cd6a 127.0.0.1:30005@40005 slave 147973a50aee303e32606ed42dd3f2950c99f5b0 0 1795333795000 3 connected\n" +
        "dd4a9a0a10f77ae1d18fae4bb6be21614788299d 127.0.0.1:30006@40006 slave 2db23a771e7fb9f4cc4b6d547299fbe6750decd7 0 1795333794000 1 connected\n" +
        "2db23a771e7fb9f4cc4b6d547299fbe6750decd7 127.0.0.1:30001@40001 myself,master - 0 1795333794000 1 connected 0-5460 " +
        "[100->-221d838701ebb418f976ac38b877d4671641ed67] [101->-221d838701ebb418f976ac38b877d4671641ed67]\n" +
        "147973a50aee303e32606ed42dd3f2950c99f5b0 127.0.0.1:30003@40003 master - 0 1795333795941 3 connected 10923-16383\n" +
        "1f2662954e024a7a6614a1e01bba6b235a1b3792 127.0.0.1:30004@40004 slave 221d838701ebb418f976ac38b877d4671641ed67 0 1795333794936 2 connected\n";

    // The same node's CLUSTER NODES line as 127.0.0.1:30002 saw it while importing slot 100.
    private const string RedisImportingLine =
        "221d838701ebb418f976ac38b877d4671641ed67 127.0.0.1:30002@40002 myself,master - 0 1795333629000 2 connected 5461-10922 " +
        "[100-<-2db23a771e7fb9f4cc4b6d547299fbe6750decd7]\n";

    // CLUSTER INFO of the 6-node cluster (RESP2 bulk string; RESP3 sends the same text as a "txt" verbatim string).
    private const string RedisInfo =
        "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\n" +
        "cluster_slots_fail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\ncluster_my_epoch:1\r\n" +
        "cluster_stats_messages_ping_sent:23\r\ncluster_stats_messages_pong_sent:28\r\ncluster_stats_messages_sent:51\r\n" +
        "cluster_stats_messages_ping_received:23\r\ncluster_stats_messages_pong_received:23\r\ncluster_stats_messages_meet_received:5\r\n" +
        "cluster_stats_messages_received:51\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n";

    // CLUSTER INFO of a fresh cluster-enabled node (no slots, no messages): the per-type message counters are absent.
    private const string RedisFreshInfo =
        "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n" +
        "cluster_known_nodes:1\r\ncluster_size:1\r\ncluster_current_epoch:0\r\ncluster_my_epoch:0\r\n" +
        "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n";

    // Redis's verbatim CLUSTER NODES reply in RESP3 starts like this ("=" length, "txt:").
    private const string RedisFreshNodesResp3 = "=90\r\ntxt:7cefd85a902c99c0bfaabdd765cb8d6b67a9e94f :30007@40007 myself,master - 0 0 0 connected\n\r\n";

    private const string RedisMoved = "-MOVED 12182 127.0.0.1:30003\r\n";
    private const string RedisAsk = "-ASK 100 127.0.0.1:30002\r\n";

    private const string Id1 = "2db23a771e7fb9f4cc4b6d547299fbe6750decd7"; // 30001, slots 0-5460
    private const string Id2 = "221d838701ebb418f976ac38b877d4671641ed67"; // 30002, slots 5461-10922
    private const string Id3 = "147973a50aee303e32606ed42dd3f2950c99f5b0"; // 30003, slots 10923-16383
    private const string Id4 = "1f2662954e024a7a6614a1e01bba6b235a1b3792"; // 30004, replica of 30002
    private const string Id5 = "6bd6fba38b9eb5662c569ef9d816d65b1118cd6a"; // 30005, replica of 30003
    private const string Id6 = "dd4a9a0a10f77ae1d18fae4bb6be21614788299d"; // 30006, replica of 30001

    // ---- maps ----

    /// <summary>The captured Redis cluster as a shard map: one shard per slot, members in Redis's CLUSTER NODES order.</summary>
    private static ShardMap RedisLikeMap(bool migrating)
    {
        var map = ShardMap.Empty(16384, 1) with
        {
            Epoch = 6,
            Members =
            [
                new ClusterMember(Id2, "127.0.0.1", 30002), new ClusterMember(Id5, "127.0.0.1", 30005),
                new ClusterMember(Id6, "127.0.0.1", 30006), new ClusterMember(Id1, "127.0.0.1", 30001),
                new ClusterMember(Id3, "127.0.0.1", 30003), new ClusterMember(Id4, "127.0.0.1", 30004),
            ],
        };
        for (int slot = 0; slot < 16384; slot++)
        {
            map.Shards[slot] = slot <= 5460 ? new ShardAssignment { Primary = Id1, Replicas = [Id6] }
                : slot <= 10922 ? new ShardAssignment { Primary = Id2, Replicas = [Id4] }
                : new ShardAssignment { Primary = Id3, Replicas = [Id5] };
        }

        if (migrating)
        {
            map.Shards[100] = map.Shards[100] with { MigratingTo = Id2 };
            map.Shards[101] = map.Shards[101] with { MigratingTo = Id2 };
        }

        return map;
    }

    /// <summary>Three members with one replica each over the default 1024 shards: a→b, b→c, c→a, a third of the shards each.</summary>
    private static ShardMap ThreeMembers(long epoch = 12)
    {
        var map = ShardMap.Empty(1024, 1) with
        {
            Epoch = epoch,
            Members = [new ClusterMember("a", "127.0.0.1", 7001), new ClusterMember("b", "127.0.0.1", 7002), new ClusterMember("c", "127.0.0.1", 7003)],
        };
        for (int shard = 0; shard < 1024; shard++)
        {
            map.Shards[shard] = shard < 342 ? new ShardAssignment { Primary = "a", Replicas = ["b"] }
                : shard < 683 ? new ShardAssignment { Primary = "b", Replicas = ["c"] }
                : new ShardAssignment { Primary = "c", Replicas = ["a"] };
        }

        return map;
    }

    private static string RedisId(string name) => ClusterMember.ToRedisId(name);

    // ---- helpers ----

    private static byte[] Write(RespVersion version, Action<RespWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new RespWriter(buffer, version));
        return buffer.WrittenSpan.ToArray();
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static RespValue Parse(byte[] bytes)
    {
        Assert.Equal(RespParseStatus.Complete, RespReplyParser.TryParse(bytes, out RespValue? value, out int consumed, out string? error));
        Assert.Null(error);
        Assert.Equal(bytes.Length, consumed);
        return value!;
    }

    private static RespValue Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    private static RespValue Field(RespValue map, string name)
    {
        IReadOnlyList<RespValue> items = map.Items!;
        for (int i = 0; i < items.Count; i += 2)
        {
            if (items[i].AsString() == name) return items[i + 1];
        }

        throw new KeyNotFoundException(name);
    }

    private static Dictionary<string, string> InfoFields(string info)
    {
        Assert.EndsWith("\r\n", info, StringComparison.Ordinal);
        var fields = new Dictionary<string, string>();
        foreach (string line in info[..^2].Split("\r\n"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, line);
            fields.Add(line[..colon], line[(colon + 1)..]);
        }

        return fields;
    }

    /// <summary>Redis's CLUSTER NODES with what AkkaCache shows differently put AkkaCache's way: cport 0, ping/pong 0, epoch.</summary>
    private static string AsAkkaCacheNodes(string redis, long epoch) =>
        string.Concat(redis.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            string[] f = line.Split(' ');
            f[1] = Regex.Replace(f[1], "@[0-9]+$", "@0");
            f[4] = "0";
            f[5] = "0";
            f[6] = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return string.Join(' ', f) + "\n";
        }));

    private static string ZeroOffsets(string reply) => Regex.Replace(reply, "replication-offset\r\n:[0-9]+\r\n", "replication-offset\r\n:0\r\n");

    // ---- compared with redis-server 7.0.15 ----

    [Theory]
    [InlineData(RespVersion.Resp2, RedisSlotsResp2)]
    [InlineData(RespVersion.Resp3, RedisSlotsResp3)]
    public void Slots_are_byte_identical_to_redis(RespVersion version, string redis)
    {
        var topology = new ClusterTopology(RedisLikeMap(migrating: true), Id1);
        Assert.Equal(redis, Text(Write(version, w => topology.WriteSlots(w))));
        Assert.Equal(redis, Text(Write(version, w => topology.WriteSlots(w)))); // cached bytes, same again
    }

    [Theory]
    [InlineData(RespVersion.Resp2, RedisShardsResp2)]
    [InlineData(RespVersion.Resp3, RedisShardsResp3)]
    public void Shards_match_redis_apart_from_order_and_replication_offsets(RespVersion version, string redis)
    {
        var topology = new ClusterTopology(RedisLikeMap(migrating: true), Id1);
        RespValue ours = Parse(Write(version, w => topology.WriteShards(w)));

        // Redis lists shards in hash-table order and reports live offsets; AkkaCache lists them by slot, offset 0.
        RespValue theirs = Parse(ZeroOffsets(redis));
        RespValue[] bySlot = theirs.Items!.OrderBy(shard => Field(shard, "slots").Items![0].Integer).ToArray();
        Assert.Equal(bySlot, ours.Items!);
        Assert.Equal(version == RespVersion.Resp3 ? RespType.Map : RespType.Array, ours.Items![0].Type);
    }

    [Fact]
    public void Nodes_match_redis_with_migrating_slots_on_the_source_line()
    {
        var topology = new ClusterTopology(RedisLikeMap(migrating: true), Id1);
        Assert.Equal(AsAkkaCacheNodes(RedisNodes, 6), topology.NodesText);
    }

    [Fact]
    public void Nodes_show_importing_slots_on_the_target_line()
    {
        var map = RedisLikeMap(migrating: false);
        map.Shards[100] = map.Shards[100] with { MigratingTo = Id2 };
        var topology = new ClusterTopology(map, Id2);

        string line = topology.NodesText.Split('\n')[0] + "\n";
        Assert.Equal(AsAkkaCacheNodes(RedisImportingLine, 6), line);
        Assert.Equal(ShardRole.Importing, topology.RoleOf(100));
        Assert.Equal(ShardRole.Primary, topology.RoleOf(5461));
        Assert.Equal(ShardRole.None, topology.RoleOf(0));
    }

    [Fact]
    public void Info_lists_redis_fields_in_redis_order_then_akkacache_fields()
    {
        var topology = new ClusterTopology(RedisLikeMap(migrating: true), Id1);
        string info = topology.InfoText(new ClusterInfoCounters(CanServe: true, ShardsMigrating: 2, MigrationBytesSent: 4096, MessagesSent: 51, MessagesReceived: 51));

        // Redis 7.0.15 less its per-type message counters (AkkaCache has no gossip types), cluster_my_epoch = the map epoch.
        string expected = string.Concat(RedisInfo.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !Regex.IsMatch(line, "^cluster_stats_messages_(ping|pong|meet)_"))
            .Select(line => (line.StartsWith("cluster_my_epoch:", StringComparison.Ordinal) ? "cluster_my_epoch:6" : line) + "\r\n"));
        Assert.Equal(expected + "cluster_shards_migrating:2\r\ncluster_migration_bytes_sent:4096\r\n", info);
    }

    [Fact]
    public void Info_and_nodes_are_bulk_strings_in_resp2_and_verbatim_in_resp3()
    {
        var map = ShardMap.Empty(1024, 0) with { Members = [new ClusterMember("7cefd85a902c99c0bfaabdd765cb8d6b67a9e94f", "", 30007)] };
        var topology = new ClusterTopology(map, "7cefd85a902c99c0bfaabdd765cb8d6b67a9e94f");
        var counters = new ClusterInfoCounters(true, 0, 0, 0, 0);

        // The fresh Redis node says cluster_size:1 with no slots; AkkaCache counts primaries that hold slots.
        string expectedInfo = RedisFreshInfo.Replace("cluster_size:1", "cluster_size:0", StringComparison.Ordinal)
            + "cluster_shards_migrating:0\r\ncluster_migration_bytes_sent:0\r\n";
        Assert.Equal(expectedInfo, topology.InfoText(counters));
        Assert.Equal($"${Encoding.UTF8.GetByteCount(expectedInfo)}\r\n{expectedInfo}\r\n", Text(Write(RespVersion.Resp2, w => topology.WriteInfo(w, counters))));
        Assert.Equal($"={expectedInfo.Length + 4}\r\ntxt:{expectedInfo}\r\n", Text(Write(RespVersion.Resp3, w => topology.WriteInfo(w, counters))));

        Assert.Equal(RedisFreshNodesResp3.Replace("@40007", "@0", StringComparison.Ordinal).Replace("=90", "=86", StringComparison.Ordinal),
            Text(Write(RespVersion.Resp3, w => topology.WriteNodes(w))));
        Assert.Equal("$82\r\n7cefd85a902c99c0bfaabdd765cb8d6b67a9e94f :30007@0 myself,master - 0 0 0 connected\n\r\n",
            Text(Write(RespVersion.Resp2, w => topology.WriteNodes(w))));
    }

    [Fact]
    public void Moved_and_ask_are_byte_identical_to_redis()
    {
        var topology = new ClusterTopology(RedisLikeMap(migrating: true), Id1);
        Assert.Equal(RedisMoved, Text(Write(RespVersion.Resp2, w => ClusterTopology.WriteMovedError(w, 12182, topology.PrimaryEndpoint(12182)))));
        Assert.Equal(RedisAsk, Text(Write(RespVersion.Resp3, w => ClusterTopology.WriteAskError(w, 100, topology.MigrationTargetEndpoint(100)))));
        Assert.Equal("-MOVED 3999 127.0.0.1:6381\r\n", Text(Write(RespVersion.Resp2, w => ClusterTopology.WriteMovedError(w, 3999, "127.0.0.1:6381"u8))));
        Assert.Equal("-ASK 0 h:1\r\n", Text(Write(RespVersion.Resp2, w => ClusterTopology.WriteAskError(w, 0, "h:1"u8))));
        Assert.Equal("-MOVED 16383 h:1\r\n", Text(Write(RespVersion.Resp2, w => ClusterTopology.WriteMovedError(w, 16383, "h:1"u8))));
    }

    // ---- three members, one replica each, 1024 shards ----

    [Fact]
    public void Ranges_merge_adjacent_shards_with_the_same_holders()
    {
        var topology = new ClusterTopology(ThreeMembers(), "a", advertiseAllReplicas: true);

        Assert.Equal(3, topology.Ranges.Count);
        Assert.Equal((0, 5471, "a", "b"), Describe(topology.Ranges[0]));
        Assert.Equal((5472, 10927, "b", "c"), Describe(topology.Ranges[1]));
        Assert.Equal((10928, 16383, "c", "a"), Describe(topology.Ranges[2]));
        Assert.Equal(16384, topology.SlotsAssigned);
        Assert.Equal(3, topology.ClusterSize);
        Assert.Equal(3, topology.CountKnownNodes);
        Assert.Equal(12, topology.Epoch);

        static (int, int, string, string) Describe(SlotRange r) => (r.First, r.Last, r.Primary.Id, Assert.Single(r.Replicas).Id);
    }

    [Fact]
    public void Ranges_split_where_replicas_differ_but_nodes_line_merges_the_primary_slots()
    {
        var map = ThreeMembers();
        map.Shards[10] = map.Shards[10] with { Replicas = ["c"] };
        var topology = new ClusterTopology(map, "a", advertiseAllReplicas: true);

        Assert.Equal([(0, 159), (160, 175), (176, 5471), (5472, 10927), (10928, 16383)], topology.Ranges.Select(r => (r.First, r.Last)));
        Assert.Equal("c", Assert.Single(topology.Ranges[1].Replicas).Id);
        string aLine = topology.NodesText.Split('\n')[0];
        Assert.EndsWith(" connected 0-5471", aLine, StringComparison.Ordinal);

        // CLUSTER SHARDS: one entry per (primary, replicas) combination; a's two combinations are two entries.
        RespValue shards = Parse(Write(RespVersion.Resp3, w => topology.WriteShards(w)));
        Assert.Equal(4, shards.Items!.Count);
        Assert.Equal([0L, 159L, 176L, 5471L], Field(shards.Items[0], "slots").Items!.Select(v => v.Integer));
        Assert.Equal([160L, 175L], Field(shards.Items[1], "slots").Items!.Select(v => v.Integer));
    }

    [Theory]
    [InlineData(RespVersion.Resp2)]
    [InlineData(RespVersion.Resp3)]
    public void Slots_cover_every_slot_exactly_once_with_primary_then_replica(RespVersion version)
    {
        var topology = new ClusterTopology(ThreeMembers(), "b", advertiseAllReplicas: true);
        RespValue slots = Parse(Write(version, w => topology.WriteSlots(w)));

        var covered = new int[16384];
        foreach (RespValue range in slots.Items!)
        {
            Assert.Equal(4, range.Items!.Count); // start, end, primary, one replica
            for (long slot = range.Items[0].Integer; slot <= range.Items[1].Integer; slot++) covered[slot]++;
            foreach (RespValue node in range.Items.Skip(2))
            {
                Assert.Equal(4, node.Items!.Count); // host, port, id, metadata map (empty)
                Assert.Equal("127.0.0.1", node.Items[0].AsString());
                Assert.Equal(RespType.Integer, node.Items[1].Type);
                Assert.Equal(40, node.Items[2].AsString()!.Length);
                Assert.Equal(version == RespVersion.Resp3 ? RespType.Map : RespType.Array, node.Items[3].Type);
                Assert.Empty(node.Items[3].Items!);
            }
        }

        Assert.All(covered, count => Assert.Equal(1, count));
        RespValue first = slots.Items[0];
        Assert.Equal(7001, first.Items![2].Items![1].Integer);
        Assert.Equal(RedisId("a"), first.Items[2].Items![2].AsString());
        Assert.Equal(RedisId("b"), first.Items[3].Items![2].AsString());
    }

    [Theory]
    [InlineData(RespVersion.Resp2)]
    [InlineData(RespVersion.Resp3)]
    public void By_default_slots_and_shards_show_as_replicas_only_members_that_lead_no_shard(RespVersion version)
    {
        var map = ThreeMembers() with { Members = [.. ThreeMembers().Members, new ClusterMember("d", "127.0.0.1", 7004)] };
        map.Shards[700] = map.Shards[700] with { Replicas = ["a", "d"] }; // d leads nothing, a leads shards 0..341
        var topology = new ClusterTopology(map, "b");

        // every slot once, each range under its primary; the only replica shown is d, and only where it holds a copy
        RespValue slots = Parse(Write(version, w => topology.WriteSlots(w)));
        var covered = new int[16384];
        foreach (RespValue range in slots.Items!)
        {
            for (long slot = range.Items![0].Integer; slot <= range.Items[1].Integer; slot++) covered[slot]++;
            var replicas = range.Items.Skip(3).Select(node => node.Items![2].AsString()!).ToArray();
            if (range.Items[0].Integer == 700 * 16) Assert.Equal([RedisId("d")], replicas);
            else Assert.Empty(replicas);
        }
        Assert.All(covered, count => Assert.Equal(1, count));
        Assert.Equal([(0, 5471), (5472, 10927), (10928, 11199), (11200, 11215), (11216, 16383)], topology.Ranges.Select(r => (r.First, r.Last)));

        RespValue shards = Parse(Write(version, w => topology.WriteShards(w)));
        var roles = shards.Items!.SelectMany(entry => Field(entry, "nodes").Items!)
            .Select(node => (Field(node, "id").AsString(), Field(node, "role").AsString())).Distinct().ToArray();
        Assert.DoesNotContain(roles, r => r.Item2 == "replica" && r.Item1 != RedisId("d"));
        Assert.Contains((RedisId("d"), "replica"), roles);

        // what a node holds is unchanged: only what it advertises is
        Assert.Equal(ShardRole.Replica, new ClusterTopology(map, "a").RoleOf(700));
        Assert.Equal(ShardRole.Replica, topology.RoleOf(0));
        Assert.Equal(16384, topology.SlotsAssigned);
        Assert.Equal(3, topology.ClusterSize);
    }

    [Fact]
    public void Nodes_lines_have_redis_fields_flags_roles_and_epoch()
    {
        var map = ThreeMembers(epoch: 41) with
        {
            Members = [.. ThreeMembers().Members, new ClusterMember("d", "10.0.0.4", 7004), new ClusterMember("e", "10.0.0.5", 7005)],
        };
        map.Shards[700] = map.Shards[700] with { Replicas = ["a", "d"] }; // d holds only a replica of a c shard
        var topology = new ClusterTopology(map, "d");

        string text = topology.NodesText;
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
        string[] lines = text[..^1].Split('\n');
        Assert.Equal(5, lines.Length);
        foreach (string line in lines)
        {
            string[] f = line.Split(' ');
            Assert.True(f.Length >= 8, line);
            Assert.Equal(40, f[0].Length);
            Assert.Matches("^[0-9.]+:[0-9]+@0$", f[1]);
            Assert.Equal("0", f[4]);
            Assert.Equal("0", f[5]);
            Assert.Equal("41", f[6]);
            Assert.Equal("connected", f[7]);
        }

        Assert.Equal($"{RedisId("a")} 127.0.0.1:7001@0 master - 0 0 41 connected 0-5471", lines[0]);
        Assert.Equal($"{RedisId("b")} 127.0.0.1:7002@0 master - 0 0 41 connected 5472-10927", lines[1]);
        Assert.Equal($"{RedisId("c")} 127.0.0.1:7003@0 master - 0 0 41 connected 10928-16383", lines[2]);
        Assert.Equal($"{RedisId("d")} 10.0.0.4:7004@0 myself,slave {RedisId("c")} 0 0 41 connected", lines[3]);
        Assert.Equal($"{RedisId("e")} 10.0.0.5:7005@0 master - 0 0 41 connected", lines[4]); // holds nothing
        Assert.Equal(ShardRole.Replica, topology.RoleOf(700));
        Assert.Equal(ShardRole.None, topology.RoleOf(0));

        var fromA = new ClusterTopology(map, "a");
        Assert.StartsWith($"{RedisId("a")} 127.0.0.1:7001@0 myself,master - ", fromA.NodesText, StringComparison.Ordinal);
        Assert.Equal(ShardRole.Primary, fromA.RoleOf(0));
        Assert.Equal(ShardRole.Replica, fromA.RoleOf(1023));
        Assert.Equal(ShardRole.None, fromA.RoleOf(500));
    }

    [Theory]
    [InlineData(RespVersion.Resp2)]
    [InlineData(RespVersion.Resp3)]
    public void Shards_have_slots_and_nodes_with_redis_fields(RespVersion version)
    {
        var topology = new ClusterTopology(ThreeMembers(), "a", advertiseAllReplicas: true);
        RespValue shards = Parse(Write(version, w => topology.WriteShards(w)));

        Assert.Equal(3, shards.Items!.Count);
        RespType mapType = version == RespVersion.Resp3 ? RespType.Map : RespType.Array;
        RespValue shard = shards.Items[1];
        Assert.Equal(mapType, shard.Type);
        Assert.Equal(["slots", "nodes"], shard.Items!.Where((_, i) => i % 2 == 0).Select(v => v.AsString()));
        Assert.Equal([5472L, 10927L], Field(shard, "slots").Items!.Select(v => v.Integer));
        IReadOnlyList<RespValue> nodes = Field(shard, "nodes").Items!;
        Assert.Equal(2, nodes.Count);
        Assert.All(nodes, node =>
        {
            Assert.Equal(mapType, node.Type);
            Assert.Equal(["id", "port", "ip", "endpoint", "role", "replication-offset", "health"], node.Items!.Where((_, i) => i % 2 == 0).Select(v => v.AsString()));
            Assert.Equal("online", Field(node, "health").AsString());
            Assert.Equal(0, Field(node, "replication-offset").Integer);
        });
        Assert.Equal(RedisId("b"), Field(nodes[0], "id").AsString());
        Assert.Equal("master", Field(nodes[0], "role").AsString());
        Assert.Equal(7002, Field(nodes[0], "port").Integer);
        Assert.Equal(RedisId("c"), Field(nodes[1], "id").AsString());
        Assert.Equal("replica", Field(nodes[1], "role").AsString());
    }

    [Fact]
    public void Shards_name_a_host_that_is_not_an_ip_address_as_hostname()
    {
        var map = ShardMap.Empty(4, 0) with { Epoch = 1, Members = [new ClusterMember("a", "cache-1.internal", 6379)] };
        for (int i = 0; i < 4; i++) map.Shards[i] = new ShardAssignment { Primary = "a" };
        var topology = new ClusterTopology(map, "a");

        RespValue node = Field(Parse(Write(RespVersion.Resp3, w => topology.WriteShards(w))).Items![0], "nodes").Items![0];
        Assert.Equal(["id", "port", "ip", "endpoint", "hostname", "role", "replication-offset", "health"], node.Items!.Where((_, i) => i % 2 == 0).Select(v => v.AsString()));
        Assert.Equal("cache-1.internal", Field(node, "hostname").AsString());
        Assert.Equal("cache-1.internal:6379", Encoding.UTF8.GetString(topology.PrimaryEndpoint(3)));
    }

    [Fact]
    public void Info_reports_the_map_and_the_counters()
    {
        var topology = new ClusterTopology(ThreeMembers(epoch: 9), "b");
        Dictionary<string, string> info = InfoFields(topology.InfoText(new ClusterInfoCounters(true, 3, 123456, 10, 20)));

        Assert.Equal("ok", info["cluster_state"]);
        Assert.Equal("16384", info["cluster_slots_assigned"]);
        Assert.Equal("16384", info["cluster_slots_ok"]);
        Assert.Equal("0", info["cluster_slots_pfail"]);
        Assert.Equal("0", info["cluster_slots_fail"]);
        Assert.Equal("3", info["cluster_known_nodes"]);
        Assert.Equal("3", info["cluster_size"]);
        Assert.Equal("9", info["cluster_current_epoch"]);
        Assert.Equal("9", info["cluster_my_epoch"]);
        Assert.Equal("10", info["cluster_stats_messages_sent"]);
        Assert.Equal("20", info["cluster_stats_messages_received"]);
        Assert.Equal("0", info["total_cluster_links_buffer_limit_exceeded"]);
        Assert.Equal("3", info["cluster_shards_migrating"]);
        Assert.Equal("123456", info["cluster_migration_bytes_sent"]);

        // A node that cannot serve (no lease, stale map) says fail even with every slot assigned.
        Assert.Equal("fail", InfoFields(topology.InfoText(new ClusterInfoCounters(false, 0, 0, 0, 0)))["cluster_state"]);
    }

    [Fact]
    public void Empty_map_fails_and_has_no_slots()
    {
        var topology = new ClusterTopology(ShardMap.Empty(1024, 1), "a");

        Assert.Empty(topology.Ranges);
        Assert.Equal(0, topology.SlotsAssigned);
        Assert.Equal(0, topology.ClusterSize);
        Assert.Equal(0, topology.CountKnownNodes);
        Assert.Null(topology.Myself);
        Assert.Equal("*0\r\n", Text(Write(RespVersion.Resp2, w => topology.WriteSlots(w))));
        Assert.Equal("*0\r\n", Text(Write(RespVersion.Resp3, w => topology.WriteShards(w))));
        Assert.Equal("", topology.NodesText);
        Assert.True(topology.PrimaryEndpoint(0).IsEmpty);
        Assert.Null(topology.PrimaryEndpointOfShard(0));
        Assert.Equal(ShardRole.None, topology.RoleOf(0));
        Dictionary<string, string> info = InfoFields(topology.InfoText(new ClusterInfoCounters(true, 0, 0, 0, 0)));
        Assert.Equal("fail", info["cluster_state"]);
        Assert.Equal("0", info["cluster_slots_assigned"]);
        Assert.Equal("0", info["cluster_my_epoch"]);
    }

    [Fact]
    public void Unassigned_shard_fails_the_cluster_and_is_missing_from_slots()
    {
        var map = ThreeMembers();
        map.Shards[500] = new ShardAssignment();
        map.Shards[501] = new ShardAssignment { Primary = "gone", Replicas = ["c"] }; // names no member
        var topology = new ClusterTopology(map, "a");

        Assert.Equal(16384 - 32, topology.SlotsAssigned);
        Dictionary<string, string> info = InfoFields(topology.InfoText(new ClusterInfoCounters(true, 0, 0, 0, 0)));
        Assert.Equal("fail", info["cluster_state"]);
        Assert.Equal((16384 - 32).ToString(System.Globalization.CultureInfo.InvariantCulture), info["cluster_slots_assigned"]);

        RespValue slots = Parse(Write(RespVersion.Resp2, w => topology.WriteSlots(w)));
        Assert.Equal([(0L, 5471L), (5472L, 7999L), (8032L, 10927L), (10928L, 16383L)], slots.Items!.Select(r => (r.Items![0].Integer, r.Items[1].Integer)));
        Assert.Contains($"{RedisId("b")} 127.0.0.1:7002@0 master - 0 0 12 connected 5472-7999 8032-10927\n", topology.NodesText, StringComparison.Ordinal);
        Assert.True(topology.PrimaryEndpoint(500).IsEmpty);
        Assert.True(topology.PrimaryEndpoint(501).IsEmpty);
        Assert.Equal("127.0.0.1:7002", topology.PrimaryEndpointOfShard(502));
    }

    [Fact]
    public void Migrating_shard_has_ask_target_roles_and_open_slots_for_source_and_target()
    {
        var map = ThreeMembers();
        map.Shards[5] = map.Shards[5] with { MigratingTo = "c" };

        var source = new ClusterTopology(map, "a");
        Assert.Equal(1, source.ShardsMigrating);
        Assert.Equal("127.0.0.1:7001", Encoding.UTF8.GetString(source.PrimaryEndpoint(5)));
        Assert.Equal("127.0.0.1:7003", Encoding.UTF8.GetString(source.MigrationTargetEndpoint(5)));
        Assert.True(source.MigrationTargetEndpoint(6).IsEmpty);
        Assert.Equal(ShardRole.Primary, source.RoleOf(5));
        string expectedOpen = string.Concat(Enumerable.Range(80, 16).Select(slot => $" [{slot}->-{RedisId("c")}]"));
        Assert.Equal($"{RedisId("a")} 127.0.0.1:7001@0 myself,master - 0 0 12 connected 0-5471{expectedOpen}", source.NodesText.Split('\n')[0]);

        var target = new ClusterTopology(map, "c");
        Assert.Equal(ShardRole.Importing, target.RoleOf(5));
        string[] lines = target.NodesText.Split('\n');
        Assert.Equal($"{RedisId("a")} 127.0.0.1:7001@0 master - 0 0 12 connected 0-5471", lines[0]); // only myself shows open slots
        Assert.EndsWith(" connected 10928-16383 [80-<-" + RedisId("a") + "]" + string.Concat(Enumerable.Range(81, 15).Select(s => $" [{s}-<-{RedisId("a")}]")), lines[2], StringComparison.Ordinal);

        // The other replica's view: no open slots anywhere, and SLOTS does not mention the importer.
        var bystander = new ClusterTopology(map, "b");
        Assert.DoesNotContain("[", bystander.NodesText, StringComparison.Ordinal);
        Assert.Equal(Text(Write(RespVersion.Resp2, w => new ClusterTopology(ThreeMembers(), "b").WriteSlots(w))), Text(Write(RespVersion.Resp2, w => bystander.WriteSlots(w))));
    }

    [Fact]
    public void Shard_count_must_divide_the_slot_count()
    {
        Assert.Throws<ArgumentException>(() => new ClusterTopology(ShardMap.Empty(1000, 1), "a"));
    }

    [Fact]
    public void Redirects_and_cached_slots_and_shards_allocate_nothing()
    {
        var topology = new ClusterTopology(ThreeMembers(), "a");
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var writer = new RespWriter(buffer, RespVersion.Resp2);

        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                buffer.ResetWrittenCount();
                int slot = i & 16383;
                int shard = topology.ShardOfSlot(slot);
                ClusterTopology.WriteMovedError(writer, slot, topology.PrimaryEndpoint(shard));
                ClusterTopology.WriteAskError(writer, slot, topology.PrimaryEndpoint(shard));
                _ = topology.RoleOf(shard);
                if ((i & 255) == 0)
                {
                    buffer.ResetWrittenCount();
                    topology.WriteSlots(writer); // encoded once per map, then copied
                    topology.WriteShards(writer);
                }
            }
        }

        Run(1000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(20_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Long_endpoint_redirect_is_still_one_correct_line()
    {
        string host = new('h', 400);
        byte[] endpoint = Encoding.ASCII.GetBytes(host + ":1");
        Assert.Equal($"-MOVED 77 {host}:1\r\n", Text(Write(RespVersion.Resp2, w => ClusterTopology.WriteMovedError(w, 77, endpoint))));
    }
}
