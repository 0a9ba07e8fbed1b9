using System.Net.Sockets;

namespace AkkaCache.Server.Network;

/// <summary>Accepts connections on a listening socket until cancelled, handing each to <c>accepted</c>.</summary>
internal static class AcceptLoop
{
    public static async Task RunAsync(Socket listener, Action<Socket> accepted, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException)
            {
                continue; // a client that reset before we accepted it
            }
            accepted(client);
        }
    }
}
