/* Thin wrappers for the syscalls Swift's Glibc module does not expose. */
#include "crsandbox.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
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
