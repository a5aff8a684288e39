// GuestAddress.cs — a guest-physical address. Arithmetic on addresses the guest supplied goes
// through the checked helpers here (design README 1.7), never through raw ulong addition.
namespace VhostUser.Memory;

/// <summary>A guest-physical address.</summary>
/// <param name="Value">The address.</param>
public readonly record struct GuestAddress(ulong Value)
{
    /// <summary>Adds <paramref name="offset"/>; throws <see cref="GuestMemoryException"/> on overflow.</summary>
    public GuestAddress Add(ulong offset)
    {
        if (!TryAdd(offset, out var result))
        {
            throw new GuestMemoryException(GuestMemoryError.AddressOverflow,
                $"guest address 0x{Value:x} + 0x{offset:x} overflows 64 bits");
        }
        return result;
    }

    /// <summary>Adds <paramref name="offset"/> unless that overflows.</summary>
    public bool TryAdd(ulong offset, out GuestAddress result)
    {
        ulong sum = Value + offset;
        result = new GuestAddress(sum);
        return sum >= Value;
    }

    /// <inheritdoc />
    public override string ToString() => $"0x{Value:x}";
}
