// SyslogLoggerProvider.cs — --syslog: log lines as RFC 3164 datagrams to the local syslog socket
// (/dev/log), "<PRI>program[pid]: category: message", facility user, severity from the log level.
// The socket is connected once, at start: a connected datagram socket keeps reaching the syslog
// daemon after a sandbox has pivoted away from /dev/log. A line the socket refuses (syslog
// stopped, buffer full) is dropped: logging never blocks or fails the daemon.
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace VhostUser.Backend;

/// <summary>Loggers that write to a syslog socket.</summary>
public sealed class SyslogLoggerProvider : ILoggerProvider
{
    /// <summary>The local syslog socket.</summary>
    public const string DefaultPath = "/dev/log";

    private const int FacilityUser = 1;

    private readonly Socket _socket;
    private readonly string _program;

    private SyslogLoggerProvider(Socket socket, string program)
    {
        _socket = socket;
        _program = program;
    }

    /// <summary>Connects to the syslog socket at <paramref name="path"/>; null if there is none to connect to.</summary>
    public static SyslogLoggerProvider? TryCreate(string program, string path = DefaultPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Blocking = false;
            return new SyslogLoggerProvider(socket, program);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new SyslogLogger(this, categoryName);

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    /// <summary>The syslog severity of a log level (RFC 5424 table 2).</summary>
    public static int Severity(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    private void Write(LogLevel level, string category, string message)
    {
        string line = $"<{(FacilityUser * 8) + Severity(level)}>{_program}[{Environment.ProcessId}]: {category}: {message}";
        try
        {
            _socket.Send(Encoding.UTF8.GetBytes(line));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // dropped: see the file comment
        }
    }

    private sealed class SyslogLogger(SyslogLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            string message = formatter(state, exception);
            provider.Write(logLevel, category, exception is null ? message : $"{message}: {exception.Message}");
        }
    }
}
