using System.Buffers;
using System.Text;

namespace AkkaCache.Protocol.Tests;

/// <summary>
/// Random commands (fixed seeds, so failures reproduce) are encoded, concatenated and fed to the parser in random
/// chunk sizes the way the server's receive loop does; what comes out must be exactly what went in.
/// </summary>
public class RequestParserPropertyTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 25)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomPipelinesRoundTripThroughAnyChunking(int seed)
    {
        var random = new Random(seed);
        var expected = new List<byte[][]>();
        var stream = new ArrayBufferWriter<byte>();
        int commands = random.Next(1, 60);
        for (int c = 0; c < commands; c++)
        {
            byte[][] command = RandomCommand(random);
            expected.Add(command);
            byte[] inline = QuotedInline(command);

            // A quarter inline (when the line fits the default 64 KB inline limit), the rest multibulk.
            if (random.Next(4) == 0 && inline.Length < 60_000)
            {
                stream.Write(inline);
            }
            else
            {
                RespRequestEncoder.Encode(stream, [.. command.Select(a => (ReadOnlyMemory<byte>)a)]);
            }
        }

        byte[] all = stream.WrittenSpan.ToArray();
        var received = new List<byte[][]>();

        // The server's loop: a receive buffer that gets chunks appended and parsed commands removed, one
        // RespArguments reused throughout.
        byte[] buffer = new byte[all.Length];
        int buffered = 0;
        int sent = 0;
        var args = new RespArguments(2);
        while (sent < all.Length)
        {
            int chunk = Math.Min(all.Length - sent, random.Next(3) == 0 ? random.Next(1, 4) : random.Next(1, 700));
            all.AsSpan(sent, chunk).CopyTo(buffer.AsSpan(buffered));
            sent += chunk;
            buffered += chunk;
            while (true)
            {
                ReadOnlySpan<byte> view = buffer.AsSpan(0, buffered);
                RespParseStatus status = RespRequestParser.TryParse(view, RespRequestLimits.Default, args, out int consumed, out string? error);
                Assert.Null(error);
                if (status == RespParseStatus.Incomplete)
                {
                    Assert.Equal(0, consumed);
                    break;
                }

                Assert.Equal(RespParseStatus.Complete, status);
                var command = new byte[args.Count][];
                for (int i = 0; i < args.Count; i++)
                {
                    command[i] = args.Get(view, i).ToArray();
                }

                received.Add(command);
                buffer.AsSpan(consumed, buffered - consumed).CopyTo(buffer);
                buffered -= consumed;
            }
        }

        Assert.Equal(0, buffered);
        Assert.Equal(expected.Count, received.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Length, received[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
            {
                Assert.Equal(expected[i][j], received[i][j]);
            }
        }
    }

    private static byte[][] RandomCommand(Random random)
    {
        var command = new byte[random.Next(1, 12)][];
        for (int i = 0; i < command.Length; i++)
        {
            int length = random.Next(10) switch
            {
                0 => 0,
                1 => random.Next(200, 3000),
                _ => random.Next(1, 20),
            };
            command[i] = new byte[length];
            for (int j = 0; j < length; j++)
            {
                // Lean on the bytes that matter to the framing.
                ReadOnlySpan<byte> special = "\r\n$*\"'\\ \t\0"u8;
                command[i][j] = random.Next(4) == 0 ? special[random.Next(special.Length)] : (byte)random.Next(256);
            }
        }

        // A printable command name, like real commands.
        command[0] = Encoding.ASCII.GetBytes("CMD" + random.Next(1000));
        return command;
    }

    // Every argument double-quoted, with escapes for everything that is not plainly printable.
    private static byte[] QuotedInline(byte[][] command)
    {
        var line = new StringBuilder();
        foreach (byte[] arg in command)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append('"');
            foreach (byte b in arg)
            {
                line.Append(b switch
                {
                    (byte)'\\' => "\\\\",
                    (byte)'"' => "\\\"",
                    (byte)'\n' => "\\n",
                    (byte)'\r' => "\\r",
                    (byte)'\t' => "\\t",
                    _ when b < 0x20 || b >= 0x7F => $"\\x{b:x2}",
                    _ => ((char)b).ToString(),
                });
            }

            line.Append('"');
        }

        line.Append("\r\n");
        return Encoding.ASCII.GetBytes(line.ToString());
    }
}
