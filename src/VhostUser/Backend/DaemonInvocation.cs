// DaemonInvocation.cs — what a device program's factory gets: the parsed command line, the
// common options, and the logger factory.
using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace VhostUser.Backend;

/// <summary>The parsed command line handed to a device program's factory.</summary>
public sealed class DaemonInvocation
{
    internal DaemonInvocation(ParseResult parseResult, string? socketPath, int? fd, ILoggerFactory loggerFactory)
    {
        ParseResult = parseResult;
        SocketPath = socketPath;
        Fd = fd;
        LoggerFactory = loggerFactory;
    }

    /// <summary>The parse result (read device options with <see cref="GetValue{T}"/>).</summary>
    public ParseResult ParseResult { get; }

    /// <summary>--socket-path, if given.</summary>
    public string? SocketPath { get; }

    /// <summary>--fd, if given.</summary>
    public int? Fd { get; }

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The value of a device option.</summary>
    public T? GetValue<T>(Option<T> option) => ParseResult.GetValue(option);

    /// <summary>True if the option appeared on the command line.</summary>
    public bool WasGiven(Option option) => ParseResult.GetResult(option) is { Implicit: false };

    /// <summary>
    /// Serves one device per socket: with one device, on --socket-path or --fd; with several,
    /// on --socket-path followed by the device number (PATH0 … PATH(N-1)), as vhost-device does.
    /// </summary>
    public IReadOnlyList<DaemonEndpoint> Endpoints(IReadOnlyList<VirtioDevice> devices) => Endpoints(devices, numbered: devices.Count > 1);

    /// <summary>
    /// As <see cref="Endpoints(IReadOnlyList{VirtioDevice})"/>, but <paramref name="numbered"/>
    /// says whether socket paths get the device number even for one device (vhost-device-rng
    /// numbers them whenever a count was asked for). --fd serves exactly one device.
    /// </summary>
    public IReadOnlyList<DaemonEndpoint> Endpoints(IReadOnlyList<VirtioDevice> devices, bool numbered)
    {
        if (Fd is not null)
        {
            if (devices.Count != 1)
            {
                throw new DaemonOptionsException($"--fd serves one device; {devices.Count} need --socket-path (each gets PATH0, PATH1, …)");
            }
            return [new DaemonEndpoint(devices[0], null, Fd)];
        }
        if (!numbered && devices.Count == 1)
        {
            return [new DaemonEndpoint(devices[0], SocketPath, null)];
        }
        if (SocketPath is null)
        {
            throw new DaemonOptionsException("several devices need --socket-path (each gets PATH0, PATH1, …); --fd serves only one");
        }
        var endpoints = new DaemonEndpoint[devices.Count];
        for (int i = 0; i < devices.Count; i++)
        {
            endpoints[i] = new DaemonEndpoint(devices[i], SocketPath + i.ToString(System.Globalization.CultureInfo.InvariantCulture), null);
        }
        return endpoints;
    }
}
