// HostSockets.cs — host-side helpers for vsock tests: blocking Unix sockets with timeouts, the
// hybrid CONNECT handshake, and reading exact byte counts.
using System.Net.Sockets;
using System.Text;

namespace VhostUser.Devices.Tests.Vsock;

internal static class HostSockets
{
    public static Socket Connect(string path, SocketType type = SocketType.Stream)
    {
        var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    public static Socket Listen(string path, SocketType type = SocketType.Stream)
    {
        var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(64);
        return socket;
    }

    public static Socket Accept(Socket listener)
    {
        var socket = listener.Accept();
        socket.ReceiveTimeout = 10_000;
        socket.SendTimeout = 10_000;
        return socket;
    }

    public static void SendText(Socket socket, string text) => socket.Send(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads up to and including the first newline, byte by byte (leaves what follows).</summary>
    public static string ReadLine(Socket socket)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (socket.Receive(one) == 1)
        {
            line.Append((char)one[0]);
            if (one[0] == '\n')
            {
                break;
            }
        }
        return line.ToString();
    }

    /// <summary>
    /// Reads the hybrid-vsock acknowledgement "OK &lt;port&gt;\n" and returns the port: the host-side
    /// port the device assigned to the connection (Firecracker's convention), from 2^30 up.
    /// </summary>
    public static uint ReadOk(Socket socket)
    {
        string line = ReadLine(socket);
        Assert.Matches(@"^OK [0-9]+\n$", line);
        uint port = uint.Parse(line[3..^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(port >= 1u << 30, $"host-side port {port} is below 2^30");
        return port;
    }

    public static byte[] ReadExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n = socket.Receive(buffer, filled, count - filled, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"EOF after {filled} of {count} bytes");
            }
            filled += n;
        }
        return buffer;
    }

    /// <summary>Reads until EOF; returns everything.</summary>
    public static byte[] ReadToEnd(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }
        return all.ToArray();
    }
}
