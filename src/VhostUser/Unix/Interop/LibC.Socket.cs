// LibC.Socket.cs — <sys/socket.h> and <sys/un.h>: the calls and structs needed for a blocking
// AF_UNIX stream socket that carries file descriptors (SCM_RIGHTS). `man 2 recvmsg` applies.
using System.Runtime.InteropServices;

namespace VhostUser.Unix.Interop;

internal static partial class LibC
{
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_TYPE = 3;
    public const int SO_ACCEPTCONN = 30;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    /// <summary>sizeof(struct sockaddr_un): sa_family_t (2) + sun_path[108].</summary>
    public const int SockaddrUnSize = 110;
    public const int SunPathOffset = 2;
    public const int SunPathMax = 108;

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    /// <summary>struct cmsghdr on 64-bit Linux: cmsg_len is size_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    public static int CmsgAlign(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);

    public static unsafe int CmsgHeaderSize => CmsgAlign(sizeof(cmsghdr));

    public static int CmsgSpace(int dataLength) => CmsgHeaderSize + CmsgAlign(dataLength);

    public static int CmsgLen(int dataLength) => CmsgHeaderSize + dataLength;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, Span<int> sv);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int bind(int fd, byte* address, uint addressLength);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int connect(int fd, byte* address, uint addressLength);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int accept4(int fd, byte* address, uint* addressLength, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint sendmsg(int fd, msghdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint recvmsg(int fd, msghdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int setsockopt(int fd, int level, int name, void* value, uint length);

    public const int SO_RCVTIMEO = 20;
    public const int SO_SNDTIMEO = 21;
}
