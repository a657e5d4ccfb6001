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
