// VirtioDeviceType.cs — device IDs from the virtio spec "Device Types" (Linux virtio_ids.h).
namespace VhostUser.Virtio;

/// <summary>Virtio device IDs.</summary>
public enum VirtioDeviceType : uint
{
    /// <summary>Reserved (invalid).</summary>
    Invalid = 0,
    /// <summary>Network card.</summary>
    Net = 1,
    /// <summary>Block device.</summary>
    Block = 2,
    /// <summary>Console.</summary>
    Console = 3,
    /// <summary>Entropy source.</summary>
    Rng = 4,
    /// <summary>Memory balloon.</summary>
    Balloon = 5,
    /// <summary>SCSI host.</summary>
    Scsi = 8,
    /// <summary>9P transport.</summary>
    NineP = 9,
    /// <summary>GPU.</summary>
    Gpu = 16,
    /// <summary>Input.</summary>
    Input = 18,
    /// <summary>Socket (vsock).</summary>
    Vsock = 19,
    /// <summary>Crypto.</summary>
    Crypto = 20,
    /// <summary>Sound.</summary>
    Sound = 25,
    /// <summary>File system.</summary>
    Fs = 26,
    /// <summary>ARM SCMI.</summary>
    Scmi = 32,
    /// <summary>I2C adapter.</summary>
    I2c = 34,
    /// <summary>GPIO.</summary>
    Gpio = 41,
}
