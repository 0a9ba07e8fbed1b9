namespace AkkaCache.Server.Tests;

/// <summary>The slow log, admin port and OTLP switches as the executable reads them: a bad value is refused with a message naming the setting.</summary>
public sealed class ObservabilityOptionsTests
{
    [Fact]
    public void Switches_map_to_their_settings()
    {
        var options = NodeServer.LoadOptions([
            "--slowlog-log-slower-than", "-1", "--slowlog-max-len", "16", "--admin-port", "8080",
            "--otlp-endpoint", "http://collector:4318", "--otlp-protocol", "http/protobuf", "--otlp-export-interval", "500"]);
        Assert.Equal(-1, options.SlowlogLogSlowerThan);
        Assert.Equal(16, options.SlowlogMaxLen);
        Assert.Equal(8080, options.AdminPort);
        Assert.Equal("http://collector:4318", options.OtlpEndpoint);
        Assert.Equal("http/protobuf", options.OtlpProtocol);
        Assert.Equal(500, options.OtlpExportInterval);
    }

    [Fact]
    public void Defaults_are_redis_slowlog_settings_no_admin_port_and_no_export()
    {
        var options = NodeServer.LoadOptions([]);
        Assert.Equal((10_000L, 128, 0, null), (options.SlowlogLogSlowerThan, options.SlowlogMaxLen, options.AdminPort, options.OtlpEndpoint));
    }

    [Theory]
    [InlineData(new[] { "--slowlog-log-slower-than", "-2" }, "Invalid AkkaCache:SlowlogLogSlowerThan -2: expected -1 (off) or 0 or more microseconds.")]
    [InlineData(new[] { "--slowlog-max-len", "-1" }, "Invalid AkkaCache:SlowlogMaxLen -1: expected 0 or more entries.")]
    [InlineData(new[] { "--admin-port", "-1" }, "Invalid AkkaCache:AdminPort -1: expected 0 (off) or 1..65535.")]
    [InlineData(new[] { "--otlp-endpoint", "collector:4317" }, "Invalid AkkaCache:OtlpEndpoint 'collector:4317': expected a URL like http://127.0.0.1:4317.")]
    [InlineData(new[] { "--otlp-endpoint", "http://c:4317", "--otlp-protocol", "http/json" }, "Invalid AkkaCache:OtlpProtocol 'http/json': expected grpc or http/protobuf.")]
    [InlineData(new[] { "--otlp-endpoint", "http://c:4317", "--otlp-export-interval", "0" }, "Invalid AkkaCache:OtlpExportInterval 0: expected 1 or more milliseconds.")]
    public void Bad_values_are_refused_naming_the_setting(string[] args, string message) =>
        Assert.Equal(message, Assert.Throws<InvalidOperationException>(() => NodeServer.LoadOptions(args)).Message);
}
