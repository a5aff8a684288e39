namespace VhostUser.Bench;

/// <summary>Block access pattern (--rw), named as fio names them.</summary>
internal enum AccessPattern
{
    /// <summary>Sequential reads.</summary>
    Read,

    /// <summary>Sequential writes.</summary>
    Write,

    /// <summary>Reads at random block-aligned offsets.</summary>
    RandRead,

    /// <summary>Writes at random block-aligned offsets.</summary>
    RandWrite,
}
