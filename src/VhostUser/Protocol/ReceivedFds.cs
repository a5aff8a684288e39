// ReceivedFds.cs — the fds that came with one message. Ownership: the message owns them until a
// handler takes one (take-once); Dispose closes every fd nobody took (design README principle 3).
using VhostUser.Unix;

namespace VhostUser.Protocol;

/// <summary>File descriptors received with a message, each takeable once.</summary>
public sealed class ReceivedFds : IDisposable
{
    private readonly List<FileDescriptor?> _fds;

    internal ReceivedFds(List<FileDescriptor> fds) => _fds = [.. fds];

    /// <summary>Number of fds received (taken or not).</summary>
    public int Count => _fds.Count;

    /// <summary>Takes fd <paramref name="index"/>; the caller owns it afterwards.</summary>
    public FileDescriptor Take(int index)
    {
        var fd = _fds[index] ?? throw new InvalidOperationException($"fd {index} was taken already");
        _fds[index] = null;
        return fd;
    }

    /// <summary>Checks that exactly <paramref name="expected"/> fds arrived.</summary>
    public void Expect(int expected, FrontendRequest request)
    {
        if (_fds.Count != expected)
        {
            throw new ProtocolException(ProtocolError.WrongFdCount,
                $"{request} carried {_fds.Count} fds, expected {expected}");
        }
    }

    /// <summary>Closes every fd that was not taken.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _fds.Count; i++)
        {
            _fds[i]?.Dispose();
            _fds[i] = null;
        }
    }
}
