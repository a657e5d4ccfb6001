/* Thin wrappers for the syscalls Swift's Glibc module does not expose. */
#include "crsandbox.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

int rs_pidfd_send_signal(int pidfd, int sig)
{
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int rs_pidfd_wait(int pidfd, int options, int *status)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    do {
        r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, options);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (si.si_pid == 0)
        return 0;
    switch (si.si_code) {
    case CLD_EXITED:
        *status = (si.si_status & 0xff) << 8;
        break;
    case CLD_DUMPED:
        *status = (si.si_status & 0x7f) | 0x80;
        break;
    default:
        *status = si.si_status & 0x7f;
        break;
    }
    return 1;
}

static void fill_set(sigset_t *set, uint64_t sigs)
{
    sigemptyset(set);
    for (int sig = 1; sig <= 64; sig++)
        if (sigs & (1ULL << (sig - 1)))
            sigaddset(set, sig);
}

int rs_signalfd_for(uint64_t sigs)
{
    sigset_t set;
    fill_set(&set, sigs);
    int r = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (r != 0)
        return -r;
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

int rs_signalfd_read(int fd, int *from_kernel)
{
    struct signalfd_siginfo si;
    ssize_t n;
    do {
        n = read(fd, &si, sizeof si);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : -errno;
    if (n != (ssize_t)sizeof si)
        return -EIO;
    *from_kernel = si.ssi_code == SI_KERNEL;
    return (int)si.ssi_signo;
}

int rs_unblock(uint64_t sigs)
{
    sigset_t set;
    fill_set(&set, sigs);
    return -pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

#include <sys/xattr.h>

long rs_getxattr(const char *path, const char *name, void *buf, unsigned long size)
{
    ssize_t n = getxattr(path, name, buf, size);
    return n < 0 ? -errno : (long)n;
}

const char *rs_errno_name(int err)
{
    return strerrorname_np(err);
}

#include <spawn.h>
#include <fcntl.h>

extern char **environ;

int rs_run_helper(const char *path, char *const argv[], char *err, unsigned long errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    pid_t pid;
    int r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (r != 0) {
        close(p[0]);
        return -r;
    }
    unsigned long got = 0;
    for (;;) {
        char buf[256];
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && got + 1 < errlen; i++)
            err[got++] = buf[i];
    }
    if (errlen)
        err[got] = '\0';
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return status;
}

long rs_seqpacket_ask(const char *path, const void *request, unsigned long length, int fd,
                      char *answer, unsigned long capacity, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    long r;
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        r = -errno;
        close(s);
        return r;
    }
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = { (void *)request, length };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    }
    if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0) {
        r = -errno;
        close(s);
        return r;
    }
    ssize_t n;
    do {
        n = recv(s, answer, capacity ? capacity - 1 : 0, 0);
    } while (n < 0 && errno == EINTR);
    r = n < 0 ? -(errno == EAGAIN ? ETIMEDOUT : errno) : n;
    if (capacity)
        answer[n > 0 ? n : 0] = '\0';
    close(s);
    return r;
}
