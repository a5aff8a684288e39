namespace VhostUser.Bench;

/// <summary>Bad command-line input: the message says what to fix (exit code 2).</summary>
internal sealed class BenchOptionsException(string message) : Exception(message);
