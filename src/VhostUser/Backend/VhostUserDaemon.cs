// VhostUserDaemon.cs — one device on one listening socket: creates the device's queues and
// workers once, then accepts front ends one at a time and serves each with a VhostUserBackend
// (or, for an inherited connected socket, serves that one front end and returns).
// After a disconnect the device has been reset and the next connection is served (guest reboot,
// QEMU restart, reconnect-ms). Stop() unblocks everything; Dispose removes a socket we created.
using Microsoft.Extensions.Logging;
using VhostUser.Protocol;
using VhostUser.Unix;

namespace VhostUser.Backend;

/// <summary>Serves one device on one vhost-user socket.</summary>
public sealed class VhostUserDaemon : IDisposable
{
    private readonly VirtioDevice _device;
    private readonly ILogger _logger;
    private readonly QueueWorker[] _workers;
    private readonly DeviceQueue[] _queues;
    private readonly DeviceContext _context;
    private readonly Lock _lock = new();
    private UnixSocket? _listener;
    private UnixSocket? _connected;
    private string? _createdPath;
    private VhostUserBackend? _current;
    private volatile bool _stopping;

    /// <summary>Creates the queues and worker threads for <paramref name="device"/> and attaches it.</summary>
    public VhostUserDaemon(VirtioDevice device, ILoggerFactory loggerFactory)
    {
        _device = device;
        _logger = loggerFactory.CreateLogger("vhost-user");
        int queueCount = device.QueueCount;
        int workerCount = 1;
        for (int i = 0; i < queueCount; i++)
        {
            int worker = device.WorkerFor(i);
            if (worker < 0 || worker >= queueCount)
            {
                throw new InvalidOperationException($"WorkerFor({i}) returned {worker}; use 0..{queueCount - 1}");
            }
            workerCount = Math.Max(workerCount, worker + 1);
        }
        _workers = new QueueWorker[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            _workers[i] = new QueueWorker(i, _logger);
        }
        _queues = new DeviceQueue[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            var worker = _workers[device.WorkerFor(i)];
            _queues[i] = new DeviceQueue(i, worker, device, _logger);
            worker.AddQueue(_queues[i]);
        }
        _context = new DeviceContext(loggerFactory, loggerFactory.CreateLogger(device.GetType().Name), _workers, _queues);
        device.Attach(_context);
    }

    /// <summary>The device's services (for tests and tools).</summary>
    public DeviceContext Context => _context;

    /// <summary>How long GET_VRING_BASE waits for chains under I/O before it stops the ring anyway (tests shorten it).</summary>
    internal TimeSpan DrainTimeout { get; set; } = VhostUserBackend.DefaultDrainTimeout;

    /// <summary>
    /// Creates and listens on <paramref name="path"/>. A stale socket file nobody listens on is
    /// replaced; a live one is an error (another daemon serves it).
    /// </summary>
    public void Listen(string path)
    {
        RemoveStaleSocket(path);
        _listener = UnixSocket.Listen(path);
        _createdPath = path;
        Log.Listening(_logger, path);
    }

    /// <summary>
    /// Serves an inherited socket (--fd): a listening one is accepted on as with
    /// <see cref="Listen"/>; a connected stream socket (one end of a socketpair, as libvirt
    /// hands them out) is served as the one front end, and <see cref="Serve"/> returns when it
    /// closes. Throws <see cref="IOException"/> for any other socket.
    /// </summary>
    public void Adopt(FileDescriptor socketFd)
    {
        var socket = UnixSocket.FromDescriptor(socketFd);
        if (!socket.IsStream)
        {
            throw new IOException($"fd {socketFd.RawValue} is not a stream socket");
        }
        if (socket.IsListening)
        {
            _listener = socket;
            Log.Listening(_logger, $"fd {socketFd.RawValue}");
        }
        else
        {
            _connected = socket;
            Log.ServingConnectedFd(_logger, socketFd.RawValue);
        }
    }

    /// <summary>
    /// Accepts and serves front ends one after another until <see cref="Stop"/>; for an adopted
    /// connected socket, serves that one connection.
    /// </summary>
    public void Serve()
    {
        if (_connected is { } connected)
        {
            _connected = null;
            ServeConnection(connected);
            return;
        }
        var listener = _listener ?? throw new InvalidOperationException("call Listen or Adopt first");
        while (!_stopping)
        {
            var socket = listener.Accept();
            if (socket is null || _stopping)
            {
                socket?.Dispose();
                break;
            }
            ServeConnection(socket);
        }
    }

    /// <summary>Serves a single already connected front end until it disconnects (tests, --fd of a connected socket); it owns the socket.</summary>
    public void ServeConnection(UnixSocket socket)
    {
        var backend = new VhostUserBackend(new VhostUserConnection(socket), _device, _context, _queues, _logger) { DrainTimeout = DrainTimeout };
        lock (_lock)
        {
            if (_stopping)
            {
                socket.Dispose();
                return;
            }
            _current = backend;
        }
        Log.Connected(_logger);
        backend.Run();
        lock (_lock)
        {
            _current = null;
        }
        Log.Disconnected(_logger);
    }

    /// <summary>Stops accepting and disconnects the current front end (signal handlers call this).</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopping = true;
            _current?.Shutdown();
        }
        _listener?.Shutdown();
    }

    /// <summary>Stops the workers and removes the socket file this daemon created.</summary>
    public void Dispose()
    {
        Stop();
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
        _listener?.Dispose();
        _connected?.Dispose();
        if (_createdPath is not null)
        {
            try
            {
                File.Delete(_createdPath);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return;
        }
        if (!UnixSocket.IsSocketFile(path))
        {
            throw new IOException($"{path} exists and is not a socket");
        }
        try
        {
            using var probe = UnixSocket.Connect(path);
        }
        catch (System.Net.Sockets.SocketException)
        {
            File.Delete(path); // nobody listens: a leftover from a killed daemon
            return;
        }
        throw new IOException($"{path} is in use by another running back end");
    }
}
