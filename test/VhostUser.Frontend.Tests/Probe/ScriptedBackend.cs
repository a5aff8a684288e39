// ScriptedBackend.cs — a minimal peer back end for probe tests, written straight on
// VhostUserConnection: it answers the start-up requests the way libvhost-user does and, like
// libvhost-user's vu_get_config, refuses a GET_CONFIG larger than its config with a zero-size
// reply while the connection goes on. It records every request it saw.
using System.Runtime.InteropServices;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;
using VhostUser.Unix;

namespace VhostUser.Frontend.Tests.Probe;

internal sealed class ScriptedBackend : IDisposable
{
    private readonly VhostUserConnection _connection;
    private readonly byte[] _config;
    private readonly ulong _features;
    private readonly ulong _protocolFeatures;
    private readonly Thread _thread;
    private readonly List<string> _seen = [];

    public ScriptedBackend(UnixSocket socket, byte[] config, ulong features, ulong protocolFeatures)
    {
        _connection = new VhostUserConnection(socket);
        _config = config;
        _features = features;
        _protocolFeatures = protocolFeatures;
        _thread = new Thread(Run) { IsBackground = true, Name = "scripted back end" };
        _thread.Start();
    }

    /// <summary>The requests seen so far ("GetConfig 96", …).</summary>
    public IReadOnlyList<string> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    public void Dispose()
    {
        _connection.Shutdown();
        _thread.Join(TimeSpan.FromSeconds(10));
        _connection.Dispose();
    }

    private void Run()
    {
        try
        {
            while (_connection.Receive() is { } message)
            {
                using (message)
                {
                    Answer(message);
                }
            }
        }
        catch (Exception e) when (e is IOException or ProtocolException)
        {
            // the probe hung up
        }
    }

    private void Answer(ReceivedMessage m)
    {
        uint request = m.Header.Request;
        switch (m.Request)
        {
            case FrontendRequest.GetFeatures:
                Record("GetFeatures");
                _connection.Reply(request, new U64Payload(_features));
                return;
            case FrontendRequest.GetProtocolFeatures:
                Record("GetProtocolFeatures");
                _connection.Reply(request, new U64Payload(_protocolFeatures));
                return;
            case FrontendRequest.GetQueueNum:
                Record("GetQueueNum");
                _connection.Reply(request, new U64Payload(2));
                return;
            case FrontendRequest.GetConfig:
                var header = MemoryMarshal.Read<ConfigSpaceHeader>(m.Payload);
                Record($"GetConfig {header.Size}");
                AnswerConfig(request, header);
                return;
            default:
                Record(m.Request.ToString());
                if (m.Header.NeedsReply)
                {
                    _connection.Reply(request, new U64Payload(0));
                }
                return;
        }
    }

    private void AnswerConfig(uint request, ConfigSpaceHeader header)
    {
        if (header.Offset + header.Size > _config.Length)
        {
            _connection.Reply(request, []);
            return;
        }
        var reply = new byte[ConfigSpaceHeader.WireSize + header.Size];
        MemoryMarshal.Write(reply, header);
        _config.AsSpan((int)header.Offset, (int)header.Size).CopyTo(reply.AsSpan(ConfigSpaceHeader.WireSize));
        _connection.Reply(request, reply);
    }

    private void Record(string what)
    {
        lock (_seen)
        {
            _seen.Add(what);
        }
    }
}
