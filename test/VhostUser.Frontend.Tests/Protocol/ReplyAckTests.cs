// ReplyAckTests.cs — when the back end answers a request that has no reply of its own
// (vhost-user-protocol.md §9): only with NEED_REPLY and only after REPLY_ACK was negotiated.
// Anything else would be read by the front end as the answer to its next request, so each test
// sends the request raw and checks that the next message is GET_FEATURES' own reply.
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;
using VhostUser.Protocol.Messages;

namespace VhostUser.Frontend.Tests.Protocol;

public sealed class ReplyAckTests
{
    private const ProtocolFeatures WithoutReplyAck = VhostUserFrontend.SupportedProtocolFeatures & ~ProtocolFeatures.ReplyAck;

    [Theory]
    [InlineData(8u)]  // accepted
    [InlineData(0u)]  // refused (size 0)
    public void NeedReply_WithoutReplyAckNegotiated_NoReply(uint size)
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate(WithoutReplyAck);

        Raw.Send(pair.Frontend, FrontendRequest.SetVringNum, Raw.State(0, size), needReply: true);

        AssertNextReplyIsGetFeatures(pair);
    }

    [Fact]
    public void NeedReply_BeforeProtocolFeatures_NoReply()
    {
        using var pair = new BackendPair(new FakeDevice());

        Raw.Send(pair.Frontend, FrontendRequest.SetOwner, [], needReply: true);

        AssertNextReplyIsGetFeatures(pair);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SetLogBase_WithoutNeedReply_NoReply(bool replyAck)
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate(replyAck ? VhostUserFrontend.SupportedProtocolFeatures : WithoutReplyAck);
        using var log = Unix.MemFd.Create("log", 4096);

        Raw.Send(pair.Frontend, FrontendRequest.SetLogBase, Raw.Bytes(new LogRegion(4096, 0)), needReply: false, log);

        AssertNextReplyIsGetFeatures(pair);
    }

    [Fact]
    public void SetLogBase_NeedReplyWithReplyAck_FailedAck()
    {
        using var pair = new BackendPair(new FakeDevice());
        pair.Frontend.Negotiate();

        Raw.Send(pair.Frontend, FrontendRequest.SetLogBase, Raw.Bytes(new LogRegion(4096, 0)), needReply: true);

        var reply = Raw.Receive(pair.Frontend);
        Assert.NotNull(reply);
        Assert.Equal((uint)FrontendRequest.SetLogBase, reply.Request);
        Assert.NotEqual(0UL, reply.U64);
    }

    private static void AssertNextReplyIsGetFeatures(BackendPair pair)
    {
        Raw.Send(pair.Frontend, FrontendRequest.GetFeatures, [], needReply: false);
        var reply = Raw.Receive(pair.Frontend);
        Assert.NotNull(reply);
        Assert.Equal((uint)FrontendRequest.GetFeatures, reply.Request);
    }
}
