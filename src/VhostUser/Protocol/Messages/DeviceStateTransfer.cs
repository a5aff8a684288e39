using System.Runtime.InteropServices;

namespace VhostUser.Protocol.Messages;

/// <summary>SET_DEVICE_STATE_FD payload (8 bytes): direction (0 save, 1 load) and phase (0 stopped).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct DeviceStateTransfer(uint Direction, uint Phase) : IMessagePayload
{
    /// <summary>Back end → front end.</summary>
    public const uint DirectionSave = 0;

    /// <summary>Front end → back end.</summary>
    public const uint DirectionLoad = 1;

    /// <inheritdoc />
    public bool IsValid() => Direction <= DirectionLoad && Phase == 0;
}
