using AkkaCache.Protocol;
using AkkaCache.Server.Tests.Infrastructure;

namespace AkkaCache.Server.Tests;

/// <summary>CLIENT ID / SETNAME / GETNAME / SETINFO / LIST / INFO / KILL and the per-connection switches.</summary>
public sealed class ServerCommandClientTests
{
    [Fact]
    public async Task Client_id_is_unique_per_connection()
    {
        await using var node = await TestNode.StartAsync();
        await using var a = await node.ConnectAsync();
        await using var b = await node.ConnectAsync();
        long idA = (await a.SendAsync("CLIENT", "ID")).Int();
        long idB = (await b.SendAsync("CLIENT", "ID")).Int();
        Assert.NotEqual(idA, idB);
        Assert.Equal(idA, (await a.SendAsync("client", "id")).Int());
        (await a.SendAsync("CLIENT", "ID", "x")).AssertError("ERR wrong number of arguments for 'client|id' command");
    }

    [Fact]
    public async Task Client_setname_and_getname()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        Assert.Equal(RespValue.Null, await client.SendAsync("CLIENT", "GETNAME"));
        (await client.SendAsync("CLIENT", "SETNAME", "worker-1")).AssertOk();
        Assert.Equal(RespValue.BulkString("worker-1"), await client.SendAsync("CLIENT", "GETNAME"));
        Assert.Contains(" name=worker-1 ", (await client.SendAsync("CLIENT", "INFO")).Text());

        (await client.SendAsync("CLIENT", "SETNAME", "has space")).AssertError("ERR Client names cannot contain spaces, newlines or special characters.");
        (await client.SendAsync("CLIENT", "SETNAME", "tab\there")).AssertError("ERR Client names cannot contain spaces, newlines or special characters.");
        (await client.SendAsync("CLIENT", "SETNAME", "é")).AssertError("ERR Client names cannot contain spaces, newlines or special characters.");
        Assert.Equal(RespValue.BulkString("worker-1"), await client.SendAsync("CLIENT", "GETNAME"));

        (await client.SendAsync("CLIENT", "SETNAME", "")).AssertOk();
        Assert.Equal(RespValue.Null, await client.SendAsync("CLIENT", "GETNAME"));
        (await client.SendAsync("CLIENT", "SETNAME")).AssertError("ERR wrong number of arguments for 'client|setname' command");
    }

    [Fact]
    public async Task Client_setinfo_sets_library_name_and_version()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CLIENT", "SETINFO", "LIB-NAME", "akkacache-client")).AssertOk();
        (await client.SendAsync("CLIENT", "SETINFO", "lib-ver", "1.2.3")).AssertOk();
        var info = (await client.SendAsync("CLIENT", "INFO")).Text();
        Assert.Contains(" lib-name=akkacache-client ", info);
        Assert.Contains(" lib-ver=1.2.3", info);
        (await client.SendAsync("CLIENT", "SETINFO", "LIB-NAME", "a b")).AssertError("ERR lib-name cannot contain spaces, newlines or special characters.");
        (await client.SendAsync("CLIENT", "SETINFO", "LIB-VER", "1\n2")).AssertError("ERR lib-ver cannot contain spaces, newlines or special characters.");
        (await client.SendAsync("CLIENT", "SETINFO", "color", "red")).AssertError("ERR Unrecognized option 'color'");
        (await client.SendAsync("CLIENT", "SETINFO", "LIB-NAME")).AssertError("ERR wrong number of arguments for 'client|setinfo' command");
    }

    [Fact]
    public async Task Client_list_has_one_line_per_connection()
    {
        await using var node = await TestNode.StartAsync();
        await using var a = await node.ConnectAsync();
        await using var b = await node.ConnectAsync();
        long idA = (await a.SendAsync("CLIENT", "ID")).Int();
        long idB = (await b.SendAsync("CLIENT", "ID")).Int();
        await b.SendAsync("CLIENT", "SETNAME", "bee");

        var list = await a.SendAsync("CLIENT", "LIST");
        Assert.Equal(RespType.BulkString, list.Type);
        string text = list.Text();
        Assert.EndsWith("\n", text);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"id={idA} addr=127.0.0.1:", lines[0]);
        Assert.StartsWith($"id={idB} addr=", lines[1]);
        Assert.Contains(" name=bee ", lines[1]);
        Assert.Contains(" laddr=127.0.0.1:" + node.Port + " ", lines[0]);

        Assert.Equal($"id={idB}", (await a.SendAsync("CLIENT", "LIST", "ID", idB.ToString())).Text().Split(' ')[0]);
        Assert.Equal(2, (await a.SendAsync("CLIENT", "LIST", "ID", idA.ToString(), idB.ToString(), "999999")).Text().TrimEnd('\n').Split('\n').Length);
        Assert.Equal("", (await a.SendAsync("CLIENT", "LIST", "ID", "999999")).Text());
        Assert.Equal(2, (await a.SendAsync("CLIENT", "LIST", "TYPE", "normal")).Text().TrimEnd('\n').Split('\n').Length);
        Assert.Equal("", (await a.SendAsync("CLIENT", "LIST", "TYPE", "replica")).Text());
        Assert.Equal("", (await a.SendAsync("CLIENT", "LIST", "TYPE", "pubsub")).Text());

        (await a.SendAsync("CLIENT", "LIST", "TYPE", "robot")).AssertError("ERR Unknown client type 'robot'");
        (await a.SendAsync("CLIENT", "LIST", "ID", "x")).AssertError("ERR Invalid client ID");
        (await a.SendAsync("CLIENT", "LIST", "FOO")).AssertError("ERR syntax error");
    }

    [Fact]
    public async Task Client_list_and_info_are_verbatim_strings_in_resp3()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        await client.SendAsync("HELLO", "3");
        var list = await client.SendAsync("CLIENT", "LIST");
        Assert.Equal(RespType.Verbatim, list.Type);
        Assert.Equal("txt", list.Format);
        Assert.Contains(" resp=3 ", list.Text());
        var info = await client.SendAsync("CLIENT", "INFO");
        Assert.Equal(RespType.Verbatim, info.Type);
        Assert.EndsWith("\n", info.Text());
        Assert.Single(info.Text().TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Client_kill_id_closes_the_other_connection()
    {
        await using var node = await TestNode.StartAsync();
        await using var killer = await node.ConnectAsync();
        await using var victim = await node.ConnectAsync();
        long victimId = (await victim.SendAsync("CLIENT", "ID")).Int();

        Assert.Equal(1, (await killer.SendAsync("CLIENT", "KILL", "ID", victimId.ToString())).Int());

        Assert.True(await victim.IsClosedByServerAsync(), "the killed connection is closed");
        await Poll.UntilAsync(async () => !(await killer.SendAsync("CLIENT", "LIST")).Text().Contains($"id={victimId} "), "the killed client leaves CLIENT LIST");
        Assert.Equal(0, (await killer.SendAsync("CLIENT", "KILL", "ID", victimId.ToString())).Int());
        // the killer is unaffected
        Assert.Equal(RespValue.SimpleString("PONG"), await killer.SendAsync("PING"));
    }

    [Fact]
    public async Task Client_kill_by_address_old_and_new_form()
    {
        await using var node = await TestNode.StartAsync();
        await using var killer = await node.ConnectAsync();
        await using var first = await node.ConnectAsync();
        await using var second = await node.ConnectAsync();
        string firstAddress = Field((await first.SendAsync("CLIENT", "INFO")).Text(), "addr");
        string secondAddress = Field((await second.SendAsync("CLIENT", "INFO")).Text(), "addr");

        (await killer.SendAsync("CLIENT", "KILL", firstAddress)).AssertOk();
        Assert.True(await first.IsClosedByServerAsync());
        (await killer.SendAsync("CLIENT", "KILL", "127.0.0.1:1")).AssertError("ERR No such client");

        Assert.Equal(1, (await killer.SendAsync("CLIENT", "KILL", "ADDR", secondAddress, "SKIPME", "yes")).Int());
        Assert.True(await second.IsClosedByServerAsync());
        Assert.Equal(RespValue.SimpleString("PONG"), await killer.SendAsync("PING"));
    }

    [Fact]
    public async Task Client_kill_laddr_spares_the_caller_unless_skipme_no()
    {
        await using var node = await TestNode.StartAsync();
        await using var killer = await node.ConnectAsync();
        await using var other = await node.ConnectAsync();
        await other.SendAsync("PING");
        string localAddress = $"127.0.0.1:{node.Port}";

        Assert.Equal(1, (await killer.SendAsync("CLIENT", "KILL", "LADDR", localAddress)).Int());
        Assert.True(await other.IsClosedByServerAsync());
        Assert.Equal(RespValue.SimpleString("PONG"), await killer.SendAsync("PING"));

        // SKIPME no: the caller is killed too, after its reply
        Assert.Equal(1, (await killer.SendAsync("CLIENT", "KILL", "LADDR", localAddress, "SKIPME", "no")).Int());
        Assert.True(await killer.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Client_kill_filters_combine_and_report_a_count()
    {
        await using var node = await TestNode.StartAsync();
        await using var killer = await node.ConnectAsync();
        await using var a = await node.ConnectAsync();
        await using var b = await node.ConnectAsync();
        long idA = (await a.SendAsync("CLIENT", "ID")).Int();
        await b.SendAsync("PING");

        Assert.Equal(0, (await killer.SendAsync("CLIENT", "KILL", "TYPE", "pubsub")).Int());
        Assert.Equal(0, (await killer.SendAsync("CLIENT", "KILL", "ID", idA.ToString(), "ADDR", "10.0.0.1:1")).Int());
        Assert.Equal(0, (await killer.SendAsync("CLIENT", "KILL", "MAXAGE", "3600")).Int());
        Assert.Equal(2, (await killer.SendAsync("CLIENT", "KILL", "TYPE", "normal", "USER", "default")).Int());
        Assert.True(await a.IsClosedByServerAsync());
        Assert.True(await b.IsClosedByServerAsync());
        await Poll.UntilAsync(() => node.Node.Clients.Count == 1, "only the killer is left");
    }

    [Fact]
    public async Task Client_kill_errors()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CLIENT", "KILL", "ID", "0")).AssertError("ERR client-id should be greater than 0");
        (await client.SendAsync("CLIENT", "KILL", "ID", "x")).AssertError("ERR client-id should be greater than 0");
        (await client.SendAsync("CLIENT", "KILL", "TYPE", "robot")).AssertError("ERR Unknown client type 'robot'");
        (await client.SendAsync("CLIENT", "KILL", "USER", "bob")).AssertError("ERR No such user 'bob'");
        (await client.SendAsync("CLIENT", "KILL", "SKIPME", "maybe")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "KILL", "COLOR", "red")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "KILL", "ID", "1", "ADDR")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "KILL")).AssertError("ERR wrong number of arguments for 'client|kill' command");
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));
    }

    [Fact]
    public async Task Client_switches_and_unknown_subcommands()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await node.ConnectAsync();
        (await client.SendAsync("CLIENT", "NO-EVICT", "on")).AssertOk();
        (await client.SendAsync("CLIENT", "NO-EVICT", "OFF")).AssertOk();
        (await client.SendAsync("CLIENT", "NO-EVICT", "maybe")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "NO-TOUCH", "on")).AssertOk();
        (await client.SendAsync("CLIENT", "NO-TOUCH", "off")).AssertOk();
        (await client.SendAsync("CLIENT", "NO-TOUCH", "x")).AssertError("ERR syntax error");
        (await client.SendAsync("CLIENT", "REPLY", "ON")).AssertOk();
        (await client.SendAsync("CLIENT", "REPLY", "OFF")).AssertError("ERR CLIENT REPLY OFF|SKIP is not supported by AkkaCache");
        (await client.SendAsync("CLIENT", "REPLY", "LOUD")).AssertError("ERR syntax error");
        Assert.Equal(-1, (await client.SendAsync("CLIENT", "GETREDIR")).Int());
        (await client.SendAsync("CLIENT", "UNPAUSE")).AssertOk();
        (await client.SendAsync("CLIENT", "TRACKING", "off")).AssertOk();
        (await client.SendAsync("CLIENT", "TRACKING", "on")).AssertOk();
        Assert.Equal(0, (await client.SendAsync("CLIENT", "GETREDIR")).Int());
        (await client.SendAsync("CLIENT", "PAUSE", "100")).AssertError("ERR CLIENT PAUSE is not supported by AkkaCache");
        (await client.SendAsync("CLIENT", "FOO")).AssertError("ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
        (await client.SendAsync("CLIENT")).AssertError("ERR wrong number of arguments for 'client' command");
        Assert.Equal(RespValue.SimpleString("PONG"), await client.SendAsync("PING"));
    }

    private static string Field(string line, string name)
    {
        foreach (var part in line.TrimEnd('\n').Split(' '))
            if (part.StartsWith(name + "=", StringComparison.Ordinal)) return part[(name.Length + 1)..];
        throw new Xunit.Sdk.XunitException($"No {name}= in '{line}'");
    }
}
