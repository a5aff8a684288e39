/* fsprobe.c — guest-side helper for the virtio-fs guest tests: the system calls busybox has no
 * applet for (renameat2, O_TMPFILE, mmap, fcntl locks, xattrs, fallocate, fsync, many files).
 * Built by the test rig with the host's gcc and copied into the initramfs like any host tool.
 * Every subcommand exits 0 on success and prints the failing call and errno otherwise. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what) { printf("%s: %s (errno %d)\n", what, strerror(errno), errno); return 1; }

static int rename2(const char *a, const char *b, const char *mode) {
    unsigned flags = strcmp(mode, "exchange") == 0 ? RENAME_EXCHANGE : strcmp(mode, "noreplace") == 0 ? RENAME_NOREPLACE : 0;
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, flags) != 0) return fail("renameat2");
    return 0;
}

static int tmpfile_link(const char *dir, const char *name) {
    int fd = open(dir, O_TMPFILE | O_RDWR, 0644);
    if (fd < 0) return fail("open(O_TMPFILE)");
    if (write(fd, "tmpfile\n", 8) != 8) return fail("write");
    char proc[64], target[4096];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    snprintf(target, sizeof target, "%s/%s", dir, name);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, target, AT_SYMLINK_FOLLOW) != 0) return fail("linkat");
    return close(fd) == 0 ? 0 : fail("close");
}

static int mmap_write(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fail("open");
    if (ftruncate(fd, 8192) != 0) return fail("ftruncate");
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail("mmap");
    for (int i = 0; i < 8192; i++) p[i] = (char)('a' + i % 26);
    if (msync(p, 8192, MS_SYNC) != 0) return fail("msync");
    munmap(p, 8192);
    return close(fd) == 0 ? 0 : fail("close");
}

static int mmap_read(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail("open");
    char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail("mmap");
    for (int i = 0; i < 8192; i++)
        if (p[i] != (char)('a' + i % 26)) { printf("byte %d is %d\n", i, p[i]); return 1; }
    munmap(p, 8192);
    return 0;
}

/* A write lock taken here is seen by a child (a different process): F_GETLK reports it, a
 * non-blocking F_SETLK fails, and after unlock the child gets the lock. */
static int lock_test(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return fail("open");
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_SETLK, &lk) != 0) return fail("F_SETLK parent");
    pid_t child = fork();
    if (child == 0) {
        int cfd = open(path, O_RDWR);
        struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(cfd, F_GETLK, &probe) != 0 || probe.l_type != F_WRLCK) _exit(2);
        struct flock mine = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(cfd, F_SETLK, &mine) == 0) _exit(3);
        if (errno != EAGAIN && errno != EACCES) _exit(4);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("child saw no conflict (status %d)\n", WEXITSTATUS(status)); return 1; }
    lk.l_type = F_UNLCK;
    if (fcntl(fd, F_SETLK, &lk) != 0) return fail("F_UNLCK");
    child = fork();
    if (child == 0) {
        int cfd = open(path, O_RDWR);
        struct flock mine = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        _exit(fcntl(cfd, F_SETLKW, &mine) == 0 ? 0 : 5);
    }
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("child could not lock after unlock\n"); return 1; }
    return 0;
}

static int xattr_test(const char *path, const char *name, const char *value) {
    if (setxattr(path, name, value, strlen(value), 0) != 0) return fail("setxattr");
    char buf[256];
    ssize_t n = getxattr(path, name, buf, sizeof buf);
    if (n < 0) return fail("getxattr");
    if ((size_t)n != strlen(value) || memcmp(buf, value, n) != 0) { printf("getxattr returned %.*s\n", (int)n, buf); return 1; }
    char list[1024];
    n = listxattr(path, list, sizeof list);
    if (n < 0) return fail("listxattr");
    for (char *p = list; p < list + n; p += strlen(p) + 1)
        if (strcmp(p, name) == 0) return 0;
    printf("%s not in listxattr\n", name);
    return 1;
}

static int many_files(const char *dir, int count) {
    char path[4096];
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/f%05d", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) return fail(path);
        close(fd);
    }
    return 0;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return fail("opendir");
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    printf("%ld\n", n);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: fsprobe CMD ARGS\n"); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "rename2") && argc == 5) return rename2(argv[2], argv[3], argv[4]);
    if (!strcmp(cmd, "tmpfile") && argc == 4) return tmpfile_link(argv[2], argv[3]);
    if (!strcmp(cmd, "mmapwrite")) return mmap_write(argv[2]);
    if (!strcmp(cmd, "mmapread")) return mmap_read(argv[2]);
    if (!strcmp(cmd, "lock")) return lock_test(argv[2]);
    if (!strcmp(cmd, "xattr") && argc == 5) return xattr_test(argv[2], argv[3], argv[4]);
    if (!strcmp(cmd, "mkfiles") && argc == 4) return many_files(argv[2], atoi(argv[3]));
    if (!strcmp(cmd, "count")) return count_entries(argv[2]);
    if (!strcmp(cmd, "falloc") && argc == 4) {
        int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
        if (fd < 0) return fail("open");
        return fallocate(fd, 0, 0, atol(argv[3])) == 0 ? 0 : fail("fallocate");
    }
    if (!strcmp(cmd, "fsync")) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0) return fail("open");
        return fsync(fd) == 0 && fdatasync(fd) == 0 ? 0 : fail("fsync");
    }
    fprintf(stderr, "fsprobe: unknown command %s\n", cmd);
    return 2;
}
