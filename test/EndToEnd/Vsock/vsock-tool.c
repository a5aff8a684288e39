/*
 * vsock-tool.c — the guest side of the vsock guest tests: AF_VSOCK stream and seqpacket programs
 * that move data at the speed of the guest kernel (socat spends most of a TCG guest's time in
 * its own copies and small reads, and nothing in Debian speaks seqpacket vsock). Built statically
 * by the test with the host gcc and copied into the initramfs.
 *
 *   vsock-tool echo PORT                  stream echo service, one child per connection, until killed
 *                                         (prints "listening on PORT" once it listens)
 *   vsock-tool send CID PORT BYTES [N]    N connections at once, each sending BYTES of a pattern and
 *                                         checking the echo byte for byte; prints
 *                                         "ok N x BYTES sent=HASH received=HASH" (connection 0)
 *   vsock-tool push CID PORT BYTES        one way: BYTES of the pattern, then waits for the peer's EOF;
 *                                         prints "ok sent=HASH"
 *   vsock-tool wait PORT                  accepts one connection and copies it to stdout until EOF
 *   vsock-tool seqserver PORT             accepts one seqpacket connection, echoes every message
 *   vsock-tool seqclient CID PORT SIZE…   seqpacket messages of the given sizes, each expected back
 *                                         whole; then a burst of 32 sent before any is read
 *   vsock-tool hash SEED BYTES            prints the hash of BYTES of pattern SEED (no socket; lets a
 *                                         host test check that both ends compute the same hash)
 *
 * The pattern of connection i is xorshift64 words seeded from i; HASH is the word hash that
 * VsockHostPeers.WordHash computes on the host (8-byte little-endian words, rotate-multiply,
 * length folded in at the end), so the host can check what it received against what was sent.
 * Exit status 0 on success, 1 on a failed check (the reason on stdout), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define CHUNK (64 * 1024)
#define READ_CHUNK (256 * 1024)
#define MAX_MESSAGE (1 << 20)
#define MAX_CONNECTIONS 256

/* ---- pattern and hash --------------------------------------------------------------------- */

struct pattern { uint64_t s; uint64_t word; int used; };
struct hash { uint64_t h; uint64_t length; unsigned char carry[8]; int n; };

static void pattern_init(struct pattern *p, unsigned seed)
{
    p->s = (seed + 1) * 0x9E3779B97F4A7C15ull;
    p->used = 8;
}

static uint64_t pattern_next(struct pattern *p)
{
    p->s ^= p->s << 13;
    p->s ^= p->s >> 7;
    p->s ^= p->s << 17;
    return p->s;
}

static void pattern_fill(struct pattern *p, unsigned char *out, size_t n)
{
    while (n > 0) {
        if (p->used == 8 && n >= 8) {
            uint64_t w = pattern_next(p);
            memcpy(out, &w, 8); /* little-endian hosts only (x86-64, arm64) */
            out += 8;
            n -= 8;
            continue;
        }
        if (p->used == 8) {
            p->word = pattern_next(p);
            p->used = 0;
        }
        *out++ = (unsigned char)(p->word >> (8 * p->used++));
        n--;
    }
}

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void hash_word(struct hash *h, uint64_t w) { h->h = rotl(h->h ^ w, 27) * 0x9E3779B97F4A7C15ull; }

static void hash_init(struct hash *h) { memset(h, 0, sizeof *h); h->h = 0x243F6A8885A308D3ull; }

static void hash_update(struct hash *h, const unsigned char *p, size_t n)
{
    h->length += n;
    while (n > 0 && h->n > 0) {
        h->carry[h->n++] = *p++;
        n--;
        if (h->n == 8) {
            uint64_t w;
            memcpy(&w, h->carry, 8);
            hash_word(h, w);
            h->n = 0;
        }
    }
    if (h->n > 0)
        return; /* all of it went into the carried partial word */
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        hash_word(h, w);
    }
    memcpy(h->carry, p, n);
    h->n = (int)n;
}

static uint64_t hash_final(const struct hash *h)
{
    uint64_t w = 0, x = h->h;
    for (int i = 0; i < h->n; i++)
        w |= (uint64_t)h->carry[i] << (8 * i);
    x = rotl(x ^ w, 27) * 0x9E3779B97F4A7C15ull;
    x ^= h->length;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return x;
}

/* ---- sockets ------------------------------------------------------------------------------ */

static int connect_to(unsigned cid, unsigned port, int type)
{
    struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
    int s = socket(AF_VSOCK, type, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("connect: %s\n", strerror(errno));
        exit(1);
    }
    return s;
}

static int listen_on(unsigned port, int type, int backlog)
{
    struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
    int s = socket(AF_VSOCK, type, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, backlog) < 0) {
        printf("listen on %u: %s\n", port, strerror(errno));
        exit(1);
    }
    return s;
}

static int write_all(int s, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(s, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static unsigned char io_buffer[READ_CHUNK];

/* ---- stream modes ------------------------------------------------------------------------- */

static int echo(unsigned port)
{
    int listener = listen_on(port, SOCK_STREAM, 128);
    signal(SIGCHLD, SIG_IGN);
    printf("listening on %u\n", port);
    for (;;) {
        int s = accept(listener, NULL, NULL);
        if (s < 0) {
            if (errno == EINTR)
                continue;
            printf("accept: %s\n", strerror(errno));
            return 1;
        }
        if (fork() == 0) {
            close(listener);
            ssize_t n;
            while ((n = read(s, io_buffer, sizeof io_buffer)) > 0)
                if (write_all(s, io_buffer, (size_t)n) < 0)
                    _exit(1);
            shutdown(s, SHUT_WR);
            _exit(n < 0);
        }
        close(s);
    }
}

struct connection {
    int fd, done;
    unsigned long long sent, received;
    struct pattern tx, rx;
    struct hash tx_hash, rx_hash;
    unsigned char *buffer;
    size_t offset, length;
};

static int pump_out(struct connection *c, unsigned long long bytes, int index)
{
    if (c->offset == c->length && c->sent < bytes) {
        c->length = bytes - c->sent < CHUNK ? (size_t)(bytes - c->sent) : CHUNK;
        pattern_fill(&c->tx, c->buffer, c->length);
        hash_update(&c->tx_hash, c->buffer, c->length);
        c->sent += c->length;
        c->offset = 0;
    }
    while (c->offset < c->length) {
        ssize_t w = send(c->fd, c->buffer + c->offset, c->length - c->offset, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            printf("connection %d: send: %s\n", index, strerror(errno));
            return -1;
        }
        c->offset += (size_t)w;
    }
    if (c->sent == bytes)
        shutdown(c->fd, SHUT_WR);
    return 0;
}

static int pump_in(struct connection *c, unsigned long long bytes, int index)
{
    static unsigned char expected[READ_CHUNK];
    ssize_t n = read(c->fd, io_buffer, sizeof io_buffer);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        printf("connection %d: read after %llu bytes: %s\n", index, c->received, strerror(errno));
        return -1;
    }
    if (n == 0) {
        if (c->received != bytes) {
            printf("connection %d: EOF after %llu of %llu bytes\n", index, c->received, bytes);
            return -1;
        }
        c->done = 1;
        return 0;
    }
    pattern_fill(&c->rx, expected, (size_t)n);
    if (c->received + (unsigned long long)n > bytes || memcmp(expected, io_buffer, (size_t)n) != 0) {
        printf("connection %d: echo differs from what was sent within bytes %llu..%llu\n", index, c->received, c->received + (unsigned long long)n);
        return -1;
    }
    hash_update(&c->rx_hash, io_buffer, (size_t)n);
    c->received += (unsigned long long)n;
    return 0;
}

static int send_echo(unsigned cid, unsigned port, unsigned long long bytes, int count)
{
    static struct connection conns[MAX_CONNECTIONS];
    static struct pollfd fds[MAX_CONNECTIONS];
    for (int i = 0; i < count; i++) {
        struct connection *c = &conns[i];
        c->fd = connect_to(cid, port, SOCK_STREAM);
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        pattern_init(&c->tx, (unsigned)i);
        pattern_init(&c->rx, (unsigned)i);
        hash_init(&c->tx_hash);
        hash_init(&c->rx_hash);
        c->buffer = malloc(CHUNK);
    }
    for (int active = count; active > 0;) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (conns[i].done)
                continue;
            fds[n].fd = conns[i].fd;
            fds[n].events = POLLIN | (conns[i].sent < bytes || conns[i].offset < conns[i].length ? POLLOUT : 0);
            n++;
        }
        if (poll(fds, (nfds_t)n, 1000) < 0 && errno != EINTR) {
            printf("poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0, k = 0; i < count; i++) {
            struct connection *c = &conns[i];
            if (c->done)
                continue;
            short revents = fds[k++].revents;
            if ((revents & POLLOUT) && pump_out(c, bytes, i) < 0)
                return 1;
            if ((revents & (POLLIN | POLLHUP | POLLERR)) && pump_in(c, bytes, i) < 0)
                return 1;
            if (c->done) {
                close(c->fd);
                active--;
            }
        }
    }
    printf("ok %d x %llu bytes sent=%016llx received=%016llx\n", count, bytes,
           (unsigned long long)hash_final(&conns[0].tx_hash), (unsigned long long)hash_final(&conns[0].rx_hash));
    return 0;
}

static int push(unsigned cid, unsigned port, unsigned long long bytes)
{
    int s = connect_to(cid, port, SOCK_STREAM);
    struct pattern p;
    struct hash h;
    pattern_init(&p, 0);
    hash_init(&h);
    for (unsigned long long left = bytes; left > 0;) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        pattern_fill(&p, io_buffer, n);
        hash_update(&h, io_buffer, n);
        if (write_all(s, io_buffer, n) < 0) {
            printf("send after %llu bytes: %s\n", bytes - left, strerror(errno));
            return 1;
        }
        left -= n;
    }
    shutdown(s, SHUT_WR);
    while (read(s, io_buffer, sizeof io_buffer) > 0) {
        /* the peer closes once it has read everything */
    }
    printf("ok sent=%016llx\n", (unsigned long long)hash_final(&h));
    return 0;
}

static int wait_for_host(unsigned port)
{
    int listener = listen_on(port, SOCK_STREAM, 1);
    int s = accept(listener, NULL, NULL);
    ssize_t n;
    while ((n = read(s, io_buffer, sizeof io_buffer)) > 0)
        fwrite(io_buffer, 1, (size_t)n, stdout);
    return n < 0;
}

/* ---- seqpacket modes ---------------------------------------------------------------------- */

static unsigned char message[MAX_MESSAGE + 1];
static unsigned char expected_message[MAX_MESSAGE];

static void fill(unsigned char *p, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(i * 7 + seed);
}

static int seqserver(unsigned port)
{
    int listener = listen_on(port, SOCK_SEQPACKET, 1);
    int s = accept(listener, NULL, NULL);
    long count = 0;
    if (s < 0) {
        printf("accept: %s\n", strerror(errno));
        return 1;
    }
    for (;;) {
        ssize_t n = recv(s, message, sizeof message, MSG_TRUNC);
        if (n < 0) {
            printf("recv: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0)
            break; /* the peer shut down (recv cannot tell an empty message from EOF: tests send none) */
        if (n > MAX_MESSAGE) {
            printf("message of %zd bytes truncated\n", n);
            return 1;
        }
        if (send(s, message, (size_t)n, MSG_NOSIGNAL) != n) {
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
    fill(expected_message, size, seed);
    ssize_t n = recv(s, message, sizeof message, MSG_TRUNC);
    if (n < 0) {
        printf("%s %d: recv: %s\n", what, index, strerror(errno));
        return 0;
    }
    if ((size_t)n != size || memcmp(message, expected_message, size) != 0) {
        printf("%s %d: got %zd bytes, expected %zu (contents %s)\n", what, index, n, size,
               (size_t)n == size ? "differ" : "not compared");
        return 0;
    }
    return 1;
}

static int seqclient(unsigned cid, unsigned port, int count, char **sizes)
{
    int s = connect_to(cid, port, SOCK_SEQPACKET);
    for (int i = 0; i < count; i++) {
        size_t size = strtoul(sizes[i], NULL, 10);
        if (size > MAX_MESSAGE)
            return 2;
        fill(message, size, (unsigned)i);
        if (send(s, message, size, MSG_NOSIGNAL) != (ssize_t)size) {
            printf("message %d: send %zu bytes: %s\n", i, size, strerror(errno));
            return 1;
        }
        if (!expect(s, size, (unsigned)i, "message", i))
            return 1;
    }
    /* burst: 32 messages of different sizes in flight at once, then read them back in order */
    for (int i = 0; i < 32; i++) {
        size_t size = 1 + (size_t)i * 37;
        fill(message, size, 100u + (unsigned)i);
        if (send(s, message, size, MSG_NOSIGNAL) != (ssize_t)size) {
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

static int hash_pattern(unsigned seed, unsigned long long bytes)
{
    struct pattern p;
    struct hash h;
    pattern_init(&p, seed);
    hash_init(&h);
    /* odd chunk sizes on purpose: the result must not depend on how the stream was cut */
    for (size_t n = 1; bytes > 0; n = n * 3 % 65521 + 1) {
        size_t chunk = n < bytes ? n : (size_t)bytes;
        pattern_fill(&p, io_buffer, chunk);
        hash_update(&h, io_buffer, chunk);
        bytes -= chunk;
    }
    printf("%016llx\n", (unsigned long long)hash_final(&h));
    return 0;
}

/* ---- main --------------------------------------------------------------------------------- */

static void timed_out(int signal)
{
    (void)signal;
    static const char text[] = "timed out\n";
    (void)!write(1, text, sizeof text - 1);
    _exit(3);
}

static unsigned number(const char *text) { return (unsigned)strtoul(text, NULL, 10); }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "echo") != 0) {
        /* every mode but the service ends on its own; a hang reports instead of blocking the script */
        signal(SIGALRM, timed_out);
        alarm(900);
    }
    if (argc == 3 && strcmp(mode, "echo") == 0)
        return echo(number(argv[2]));
    if ((argc == 5 || argc == 6) && strcmp(mode, "send") == 0) {
        int count = argc == 6 ? atoi(argv[5]) : 1;
        if (count < 1 || count > MAX_CONNECTIONS)
            return 2;
        return send_echo(number(argv[2]), number(argv[3]), strtoull(argv[4], NULL, 10), count);
    }
    if (argc == 5 && strcmp(mode, "push") == 0)
        return push(number(argv[2]), number(argv[3]), strtoull(argv[4], NULL, 10));
    if (argc == 4 && strcmp(mode, "hash") == 0)
        return hash_pattern(number(argv[2]), strtoull(argv[3], NULL, 10));
    if (argc == 3 && strcmp(mode, "wait") == 0)
        return wait_for_host(number(argv[2]));
    if (argc == 3 && strcmp(mode, "seqserver") == 0)
        return seqserver(number(argv[2]));
    if (argc >= 4 && strcmp(mode, "seqclient") == 0)
        return seqclient(number(argv[2]), number(argv[3]), argc - 4, argv + 4);
    fprintf(stderr, "usage: vsock-tool echo PORT | send CID PORT BYTES [N] | push CID PORT BYTES | wait PORT\n"
                    "       | hash SEED BYTES | seqserver PORT | seqclient CID PORT SIZE...\n");
    return 2;
}
