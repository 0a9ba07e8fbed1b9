using System.Text;

namespace AkkaCache.Cluster.Etcd;

/// <summary>One key as etcd stores it. A deleted key seen through a watch carries only its key and <see cref="ModRevision"/>.</summary>
public sealed record EtcdKeyValue(string Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease)
{
    public string ValueText => Encoding.UTF8.GetString(Value);
}

/// <summary>The keys of a range read and the store revision the read saw, which is where a watch should start (+1) to miss nothing.</summary>
public sealed record EtcdRange(IReadOnlyList<EtcdKeyValue> Items, long Revision);

public enum EtcdEventType
{
    Put,
    Delete,
}

public sealed record EtcdWatchEvent(EtcdEventType Type, EtcdKeyValue Kv);

public enum EtcdOpType
{
    Get,
    Put,
    Delete,
}

/// <summary>The outcome of one operation of a transaction: the keys a Get read, or how many keys a Delete removed.</summary>
public sealed record EtcdOpResponse(EtcdOpType Type, IReadOnlyList<EtcdKeyValue> Items, long Deleted);

/// <summary>
/// <see cref="Responses"/> follow the operations of the branch that ran: the success list when <see cref="Succeeded"/>, otherwise the failure list.
/// </summary>
public sealed record EtcdTxnResult(bool Succeeded, long Revision, IReadOnlyList<EtcdOpResponse> Responses);

/// <summary>One operation inside a transaction.</summary>
public sealed class EtcdOp
{
    private EtcdOp(EtcdOpType type, string key, bool prefix, ReadOnlyMemory<byte> value, long lease)
    {
        Type = type;
        Key = key;
        IsPrefix = prefix;
        Value = value;
        Lease = lease;
    }

    public EtcdOpType Type { get; }

    public string Key { get; }

    /// <summary>The operation covers every key starting with <see cref="Key"/> (Get and Delete only).</summary>
    public bool IsPrefix { get; }

    public ReadOnlyMemory<byte> Value { get; }

    public long Lease { get; }

    public static EtcdOp Put(string key, ReadOnlyMemory<byte> value, long lease = 0) => new(EtcdOpType.Put, key, false, value, lease);

    public static EtcdOp Put(string key, string value, long lease = 0) => Put(key, Encoding.UTF8.GetBytes(value), lease);

    public static EtcdOp Delete(string key) => new(EtcdOpType.Delete, key, false, default, 0);

    public static EtcdOp DeletePrefix(string prefix) => new(EtcdOpType.Delete, prefix, true, default, 0);

    public static EtcdOp Get(string key) => new(EtcdOpType.Get, key, false, default, 0);

    public static EtcdOp GetPrefix(string prefix) => new(EtcdOpType.Get, prefix, true, default, 0);
}

public enum EtcdCompareTarget
{
    Version,
    CreateRevision,
    ModRevision,
    Value,
    Lease,
}

public enum EtcdCompareResult
{
    Equal,
    Greater,
    Less,
    NotEqual,
}

/// <summary>A guard of a transaction. etcd compares a missing key as version, create and mod revision 0, lease 0 and an empty value.</summary>
public sealed class EtcdCompare
{
    public EtcdCompare(string key, EtcdCompareTarget target, EtcdCompareResult result, long number = 0, ReadOnlyMemory<byte> value = default)
    {
        Key = key;
        Target = target;
        Result = result;
        Number = number;
        Value = value;
    }

    public string Key { get; }

    public EtcdCompareTarget Target { get; }

    public EtcdCompareResult Result { get; }

    /// <summary>The revision, version or lease compared against; unused when <see cref="Target"/> is <see cref="EtcdCompareTarget.Value"/>.</summary>
    public long Number { get; }

    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>Revision 0 means "the key does not exist".</summary>
    public static EtcdCompare CreateRevisionEquals(string key, long revision) =>
        new(key, EtcdCompareTarget.CreateRevision, EtcdCompareResult.Equal, revision);

    public static EtcdCompare ModRevisionEquals(string key, long revision) =>
        new(key, EtcdCompareTarget.ModRevision, EtcdCompareResult.Equal, revision);

    public static EtcdCompare VersionEquals(string key, long version) =>
        new(key, EtcdCompareTarget.Version, EtcdCompareResult.Equal, version);

    public static EtcdCompare LeaseEquals(string key, long leaseId) =>
        new(key, EtcdCompareTarget.Lease, EtcdCompareResult.Equal, leaseId);

    public static EtcdCompare ValueEquals(string key, ReadOnlyMemory<byte> value) =>
        new(key, EtcdCompareTarget.Value, EtcdCompareResult.Equal, value: value);

    public static EtcdCompare ValueEquals(string key, string value) => ValueEquals(key, Encoding.UTF8.GetBytes(value));
}

/// <summary>etcd refused a request, or answered in a way this client cannot read.</summary>
public class EtcdException : Exception
{
    public EtcdException()
    {
    }

    public EtcdException(string message)
        : base(message)
    {
    }

    public EtcdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EtcdException(string message, int grpcCode, int httpStatus)
        : base(message)
    {
        GrpcCode = grpcCode;
        HttpStatus = httpStatus;
    }

    /// <summary>The gRPC status code etcd reported (5 not found, 9 failed precondition, 11 out of range, ...), 0 when none.</summary>
    public int GrpcCode { get; }

    /// <summary>The HTTP status of the gateway's answer, 0 when the error arrived inside a watch stream.</summary>
    public int HttpStatus { get; }
}

/// <summary>
/// A watch asked for history etcd has already compacted away. The watcher missed events it can never get, so it must read the
/// current state again (a range read) and watch from that read's revision + 1.
/// </summary>
public sealed class EtcdCompactedException : EtcdException
{
    public EtcdCompactedException()
    {
    }

    public EtcdCompactedException(string message)
        : base(message)
    {
    }

    public EtcdCompactedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EtcdCompactedException(long compactRevision)
        : base($"etcd has compacted its history up to revision {compactRevision}; re-read and watch from a newer revision")
    {
        CompactRevision = compactRevision;
    }

    /// <summary>The oldest revision etcd still keeps.</summary>
    public long CompactRevision { get; }
}
