// HostileProtocolTests.cs — runs every row of the hostile table (HostileRows) against a fresh
// daemon and checks the error policy: the refusal comes as a failed reply-ack or the request's
// error reply, exactly one message, with flags exactly REPLY|version; the connection is closed
// only for broken framing; and the daemon keeps serving afterwards (a GET_FEATURES on the same
// connection, or on a new one after a close).
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Virtio;

namespace VhostUser.Frontend.Tests.Protocol;

public sealed class HostileProtocolTests
{
    public static TheoryData<string> Rows => [.. HostileRows.All.Keys];

    [Theory]
    [MemberData(nameof(Rows))]
    public void Request_HostileMessage_RefusedAsThePolicySaysAndServingContinues(string row)
    {
        var hostile = HostileRows.All[row];
        using var session = new HostileSession();

        hostile.Act(session);
        var reply = Raw.Receive(session.Frontend);

        if (hostile.Outcome == Outcome.Closed)
        {
            Assert.Null(reply);
            Assert.True(session.Pair.WaitForDisconnect(BackendPair.Timeout), "the daemon kept the broken connection");
            session.Pair.Reconnect();
        }
        else
        {
            Assert.NotNull(reply);
            Assert.Equal((uint)hostile.Request, reply.Request);
            Assert.Equal(HeaderFlags.Version1 | HeaderFlags.Reply, reply.Flags);
            if (hostile.Outcome == Outcome.FailedAck)
            {
                Assert.Equal(8, reply.Payload.Length);
                Assert.NotEqual(0UL, reply.U64);
            }
            else
            {
                Assert.True(hostile.IsErrorReply!(reply), $"not the error reply: {reply.Payload.Length} bytes {Convert.ToHexString(reply.Payload)}");
            }
        }
        // Serving goes on, and nothing else is pending: the next reply is GET_FEATURES' own.
        Assert.Equal(VirtioFeatures.Version1, session.Frontend.GetFeatures() & VirtioFeatures.Version1);
    }

    [Fact]
    public void Rows_EveryProtocolErrorOutcome_Covered()
    {
        Assert.Contains(HostileRows.All.Values, r => r.Outcome == Outcome.Closed);
        Assert.Contains(HostileRows.All.Values, r => r.Outcome == Outcome.ErrorReply);
        Assert.Contains(HostileRows.All.Values, r => r.Outcome == Outcome.FailedAck);
        Assert.True(HostileRows.All.Count > 100, $"only {HostileRows.All.Count} rows");
    }
}
