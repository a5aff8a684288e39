// VhostUserBackend.Config.cs — device config space: GET_CONFIG / SET_CONFIG
// (vhost-user-protocol.md §3 "device config", §4). Both must lie inside the device's own config
// size: a GET_CONFIG past it gets the zero-size reply that means failure (rst), as libvhost-user
// answers, so a front end that does not know the size (vhost-user-probe) can find it by asking.
// QEMU asks for no more than its device model's struct, which our devices cover (blk 57 of 60,
// vsock 8 of 8; devices.md).
using System.Runtime.InteropServices;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;

namespace VhostUser.Backend;

public sealed partial class VhostUserBackend
{
    private bool GetConfig(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var header = ReadConfigHeader(m);
        if (header.Offset + header.Size > (uint)_device.ConfigSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"GET_CONFIG of {header.Size} bytes at offset {header.Offset} runs past the device's {_device.ConfigSize}-byte config space");
        }
        Span<byte> reply = stackalloc byte[ConfigSpaceHeader.WireSize + (int)header.Size];
        reply.Clear();
        MemoryMarshal.Write(reply, in header);
        _device.ReadConfig((int)header.Offset, reply[ConfigSpaceHeader.WireSize..]);
        _connection.Reply((uint)m.Request, reply);
        return true;
    }

    private bool SetConfig(ReceivedMessage m)
    {
        ExpectNoFds(m);
        var header = ReadConfigHeader(m);
        var data = m.Payload.Slice(ConfigSpaceHeader.WireSize, (int)header.Size);
        if (header.Offset + header.Size > (uint)_device.ConfigSize || !_device.WriteConfig((int)header.Offset, data))
        {
            throw new ProtocolException(ProtocolError.DeviceError,
                $"SET_CONFIG of {header.Size} bytes at offset {header.Offset} refused by the device");
        }
        return false;
    }

    private ConfigSpaceHeader ReadConfigHeader(ReceivedMessage m)
    {
        if (_device.ConfigSize == 0)
        {
            throw new ProtocolException(ProtocolError.FeatureNotNegotiated, $"{m.Request}: the device has no config space");
        }
        var payload = m.Payload;
        if (payload.Length < ConfigSpaceHeader.WireSize)
        {
            throw new ProtocolException(ProtocolError.InvalidPayloadSize, $"{m.Request} payload is {payload.Length} bytes");
        }
        var header = MemoryMarshal.Read<ConfigSpaceHeader>(payload);
        if (!header.IsValid() || payload.Length != ConfigSpaceHeader.WireSize + header.Size)
        {
            throw new ProtocolException(ProtocolError.InvalidPayload,
                $"{m.Request}: offset {header.Offset} size {header.Size} flags {header.Flags} in a {payload.Length}-byte payload");
        }
        return header;
    }
}
