// Baseline.cs — the machine's own ceiling for the vsock numbers: one writer thread and one reader
// thread moving 256 KiB blocks through a Unix stream socket pair, or through loopback TCP. The
// vsock path moves the same bytes through two such hops (host program → daemon, daemon → guest
// memory) plus the guest's copy, so it cannot beat these.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VhostUser.VsockBench;

internal static class Baseline
{
    public static double Run(string mode, Window window, Pinning pinning)
    {
        var (writerSocket, readerSocket) = mode == "unix" ? UnixPair() : TcpPair();
        using (writerSocket)
        using (readerSocket)
        {
            long received = 0;
            var writer = pinning.StartHost(() =>
            {
                var block = new byte[256 * 1024];
                Random.Shared.NextBytes(block);
                try
                {
                    while (true)
                    {
                        writerSocket.Send(block);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // the reader closed its end: the run is over
                }
            });
            var buffer = new byte[256 * 1024];
            long atStart = -1;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < window.End)
            {
                if (atStart < 0 && clock.Elapsed >= window.Warmup)
                {
                    atStart = received;
                }
                received += readerSocket.Receive(buffer);
            }
            readerSocket.Shutdown(SocketShutdown.Both);
            readerSocket.Close();
            writer.Join();
            return (received - atStart) / 1e6 / window.Measured.TotalSeconds;
        }
    }

    private static (Socket Writer, Socket Reader) UnixPair()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vsock-bench-baseline-{Environment.ProcessId}.sock");
        File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var writer = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        writer.Connect(new UnixDomainSocketEndPoint(path));
        var reader = listener.Accept();
        File.Delete(path);
        return (writer, reader);
    }

    private static (Socket Writer, Socket Reader) TcpPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var writer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        writer.Connect(listener.LocalEndPoint!);
        var reader = listener.Accept();
        return (writer, reader);
    }
}
