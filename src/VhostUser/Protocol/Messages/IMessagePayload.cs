namespace VhostUser.Protocol.Messages;

/// <summary>A fixed-size wire payload that can check its own fields.</summary>
public interface IMessagePayload
{
    /// <summary>True if every field holds a value the protocol allows.</summary>
    bool IsValid();
}
