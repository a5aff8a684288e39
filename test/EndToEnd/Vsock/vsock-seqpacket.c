/*
 * vsock-seqpacket.c — a tiny guest-side SOCK_SEQPACKET test program for the vsock guest tests
 * (nothing in Debian speaks seqpacket over AF_VSOCK). Built statically by the test with the host
 * gcc and copied into the initramfs.
 *
 *   vsock-seqpacket server PORT            accept one connection, echo every message, exit at EOF
 *   vsock-seqpacket client CID PORT SIZE…  send each message (pattern from its size and index),
 *                                          expect it back whole; then a burst of 32 numbered
 *                                          messages sent before any is read, expected in order
 *
 * Prints "ok <n> messages" and exits 0, or prints what differed and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define MAX_MESSAGE (1 << 20)

static unsigned char buffer[MAX_MESSAGE + 1];
static unsigned char expected[MAX_MESSAGE];

static void fill(unsigned char *p, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(i * 7 + seed);
}

static int serve(unsigned port)
{
    struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
    int listener = socket(AF_VSOCK, SOCK_SEQPACKET, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0) {
        printf("server: %s\n", strerror(errno));
        return 1;
    }
    int s = accept(listener, NULL, NULL);
    if (s < 0) {
        printf("accept: %s\n", strerror(errno));
        return 1;
    }
    long count = 0;
    for (;;) {
        ssize_t n = recv(s, buffer, sizeof buffer, MSG_TRUNC);
        if (n < 0) {
            printf("recv: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0) {
            /* EOF or an empty message: echo an empty one only if the peer is still there */
            if (send(s, buffer, 0, MSG_NOSIGNAL) < 0)
                break;
            count++;
            continue;
        }
        if (n > MAX_MESSAGE) {
            printf("message of %zd bytes truncated\n", n);
            return 1;
        }
        if (send(s, buffer, (size_t)n, MSG_NOSIGNAL) != n) {
            printf("send: %s\n", strerror(errno));
            return 1;
        }
        count++;
    }
    printf("ok %ld messages\n", count);
    return 0;
}

static int expect(int s, size_t size, unsigned seed, const char *what, int index)
{
    fill(expected, size, seed);
    ssize_t n = recv(s, buffer, sizeof buffer, MSG_TRUNC);
    if (n < 0) {
        printf("%s %d: recv: %s\n", what, index, strerror(errno));
        return 0;
    }
    if ((size_t)n != size || memcmp(buffer, expected, size) != 0) {
        printf("%s %d: got %zd bytes, expected %zu (contents %s)\n", what, index, n, size,
               (size_t)n == size ? "differ" : "not compared");
        return 0;
    }
    return 1;
}

static int client(unsigned cid, unsigned port, int count, char **sizes)
{
    struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
    int s = socket(AF_VSOCK, SOCK_SEQPACKET, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("connect: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < count; i++) {
        size_t size = strtoul(sizes[i], NULL, 10);
        if (size > MAX_MESSAGE)
            return 1;
        fill(buffer, size, (unsigned)i);
        if (send(s, buffer, size, MSG_NOSIGNAL) != (ssize_t)size) {
            printf("message %d: send %zu bytes: %s\n", i, size, strerror(errno));
            return 1;
        }
        if (!expect(s, size, (unsigned)i, "message", i))
            return 1;
    }
    /* burst: 32 messages of different sizes in flight at once, then read them back in order */
    for (int i = 0; i < 32; i++) {
        size_t size = 1 + (size_t)i * 37;
        fill(buffer, size, 100u + (unsigned)i);
        if (send(s, buffer, size, MSG_NOSIGNAL) != (ssize_t)size) {
            printf("burst %d: send: %s\n", i, strerror(errno));
            return 1;
        }
    }
    for (int i = 0; i < 32; i++)
        if (!expect(s, 1 + (size_t)i * 37, 100u + (unsigned)i, "burst", i))
            return 1;
    printf("ok %d messages\n", count + 32);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return serve((unsigned)strtoul(argv[2], NULL, 10));
    if (argc >= 4 && strcmp(argv[1], "client") == 0)
        return client((unsigned)strtoul(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10), argc - 4, argv + 4);
    fprintf(stderr, "usage: vsock-seqpacket server PORT | client CID PORT SIZE...\n");
    return 2;
}
