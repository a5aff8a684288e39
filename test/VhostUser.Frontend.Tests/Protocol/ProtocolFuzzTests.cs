// ProtocolFuzzTests.cs — a hostile front end sends random message sequences after a normal
// negotiation: every request code and unknown ones, with and without NEED_REPLY, payloads of
// random sizes built from values that matter (queue 0 and 1, ring sizes, 4 KiB and 1 MiB, the
// session's real ring and RAM addresses, random words), and zero to three fds of every kind
// (eventfds, a memfd, /dev/null, a socket). After each message a GET_FEATURES synchronises:
// whatever came before it must be at most one reply, to the message just sent, flagged
// REPLY|version, and exactly one if NEED_REPLY was set; a closed connection is allowed, and the
// daemon must then serve a new one. No sequence may crash the daemon or leave it hanging.
using System.Buffers.Binary;
using CsCheck;
using VhostUser.Frontend.Tests.Infrastructure;
using VhostUser.Protocol;

namespace VhostUser.Frontend.Tests.Protocol;

public sealed class ProtocolFuzzTests
{
    private const uint GetFeatures = (uint)FrontendRequest.GetFeatures;

    private static readonly Gen<Message> GenMessage = Gen.Select(
        Gen.Frequency((8, Gen.UInt[1, 45]), (1, Gen.OneOf(Gen.Const(0u), Gen.UInt[46, 100], Gen.UInt))),
        Gen.Bool,
        Gen.OneOf(Gen.Int[0, 24], Gen.Const(40), Gen.Const(48), Gen.Const(56), Gen.Const(80), Gen.Int[0, 300]),
        Gen.Int[0, 7].Array[38],
        Gen.ULong.Array[38],
        Gen.Int[0, 4].Array[0, 3],
        (request, needReply, size, kinds, words, fds) => new Message(request, needReply, size, kinds, words, fds));

    [Fact]
    public void RandomMessages_FromAHostileFrontEnd_AtMostTheirOneReplyAndServingGoesOn()
    {
        GenMessage.Array[1, 25].Sample(messages =>
        {
            using var session = new HostileSession();
            foreach (var message in messages)
            {
                Send(session, message);
                if (!Synchronise(session, message))
                {
                    // The daemon closed the connection (framing it refuses): it must serve the next one.
                    Assert.True(session.Pair.WaitForDisconnect(BackendPair.Timeout), $"{message}: closed but still serving");
                    session.Pair.Reconnect();
                }
            }
            session.Pair.Reconnect();
            var features = session.Frontend.GetFeatures();
            Assert.NotEqual(0UL, (ulong)features);
        }, iter: 150, threads: 1);
    }

    private static void Send(HostileSession session, Message message)
    {
        var payload = new byte[message.Size];
        for (int at = 0, slot = 0; at < payload.Length; at += 8, slot++)
        {
            ulong value = Word(session, message.Kinds[slot % 38], message.Words[slot % 38]);
            var bytes = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            bytes.AsSpan(0, Math.Min(8, payload.Length - at)).CopyTo(payload.AsSpan(at));
        }
        var fds = message.Fds.Select(kind => kind switch
        {
            0 or 1 => session.EventFds(1)[0],
            2 => session.MemFd(1 << 20),
            3 => session.ReadOnlyFd(),
            _ => session.SocketFd(),
        }).ToArray();
        try
        {
            Raw.Send(session.Frontend, message.Request, HeaderFlags.Version1 | (message.NeedReply ? HeaderFlags.NeedReply : 0), payload, fds);
        }
        catch (System.Net.Sockets.SocketException)
        {
            // the daemon closed the connection before this message: Synchronise sees it
        }
    }

    /// <summary>Values a field of a vhost-user payload is likely to care about.</summary>
    private static ulong Word(HostileSession session, int kind, ulong random) => kind switch
    {
        0 => random % 2,                                  // queue index 0 or 1, or a flag
        1 => random % 4 == 0 ? 8UL : 1UL << (int)(random % 16), // ring sizes, powers of two
        2 => random % 2 == 0 ? 4096UL : 1UL << 20,         // page and RAM sizes
        3 => session.Ring.UserAddresses.Descriptors + (random % 3) * 4096, // near the real ring
        4 => session.Memory.Regions[0].UserAddress + random % (1UL << 21), // in or past the real RAM
        5 => random >> 32 << 32 | (random & 0xffff),        // 32-bit halves: index | num
        _ => random,
    };

    /// <returns>False if the daemon closed the connection.</returns>
    private static bool Synchronise(HostileSession session, Message message)
    {
        try
        {
            Raw.Send(session.Frontend, GetFeatures, HeaderFlags.Version1, []);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
        int replies = 0;
        while (Raw.Receive(session.Frontend) is { } reply)
        {
            Assert.Equal(HeaderFlags.Version1 | HeaderFlags.Reply, reply.Flags);
            if (reply.Request == GetFeatures && (message.Request != GetFeatures || replies == 1))
            {
                Assert.True(!message.NeedReply || replies == 1, $"{message}: NEED_REPLY set but no reply came");
                return true;
            }
            Assert.True(reply.Request == message.Request, $"{message}: a reply to request {reply.Request}");
            replies++;
            Assert.True(replies == 1, $"{message}: {replies} replies");
        }
        return false;
    }

    private sealed record Message(uint Request, bool NeedReply, int Size, int[] Kinds, ulong[] Words, int[] Fds)
    {
        public override string ToString() =>
            $"request {Request}{(NeedReply ? " NEED_REPLY" : "")} size {Size} fds [{string.Join(",", Fds)}]";
    }
}
