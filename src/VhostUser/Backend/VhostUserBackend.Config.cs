// VhostUserBackend.Config.cs — device config space: GET_CONFIG / SET_CONFIG
// (vhost-user-protocol.md §3 "device config", §4). Offsets up to VHOST_USER_MAX_CONFIG_SIZE are
// accepted; bytes past the device's own config size read as zero (QEMU may ask for the whole
// struct its device model knows).
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
        Span<byte> reply = stackalloc byte[ConfigSpaceHeader.WireSize + (int)header.Size];
        reply.Clear();
        MemoryMarshal.Write(reply, in header);
        var data = reply[ConfigSpaceHeader.WireSize..];
        int inDevice = Math.Clamp(_device.ConfigSize - (int)header.Offset, 0, data.Length);
        if (inDevice > 0)
        {
            _device.ReadConfig((int)header.Offset, data[..inDevice]);
        }
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
