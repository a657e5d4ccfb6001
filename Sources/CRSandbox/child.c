/* The child side of rs_spawn: everything between clone3 and execve.
 *
 * Rules (shared/ARCHITECTURE.md, rule 1): raw syscalls only, no malloc, no stdio, no locks, no
 * glibc signal wrappers that touch shared state. Every failure goes out on the report pipe as
 * {stage, errno, index} and the child leaves with _exit. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

/* The kernel's own struct sigaction (x86_64, aarch64 and most others share this order). */
struct rs_ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void send_report(int fd, int stage, int err, int index)
{
    struct rs_report r = { stage, err, index };
    ssize_t n;
    do {
        n = write(fd, &r, sizeof r);
    } while (n < 0 && errno == EINTR);
}

static _Noreturn void fail(int fd, int stage, int err, int index, int code)
{
    send_report(fd, stage, err, index);
    _exit(code);
}

_Noreturn void rs_child_fail(int report_fd, int stage, int err, int index)
{
    fail(report_fd, stage, err, index, RS_EXIT_SETUP);
}

/* Handlers copied from the parent must never run here: reset every disposition. Signals stay
 * blocked (the parent blocked them all around clone3) until the command is about to exec. */
static void reset_signal_dispositions(void)
{
    struct rs_ksigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.handler = SIG_DFL;
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
    }
}

static int set_signal_mask(uint64_t mask)
{
    return (int)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, sizeof mask);
}

static int nofile_limit(void)
{
    struct { uint64_t cur, max; } rl;
    if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) < 0 || rl.cur > (1u << 20))
        return 1 << 20;
    return (int)rl.cur;
}

/* close_range over [lo, hi]; on kernels without it (or without CLOEXEC support) walk the fds.
 * Async-signal-safe (the child and rs_spawn_bound use it after clone). */
int rs_close_span(unsigned lo, unsigned hi, unsigned flags)
{
    if (lo > hi)
        return 0;
    if (syscall(SYS_close_range, lo, hi, flags) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -1;
    unsigned last = (unsigned)nofile_limit();
    if (hi < last)
        last = hi;
    for (unsigned fd = lo; fd <= last; fd++) {
        if (flags & CLOSE_RANGE_CLOEXEC)
            (void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        else
            (void)close((int)fd);
    }
    return 0;
}

/* Applies `flags` (close, or mark close-on-exec) to every fd >= from except `keep`, which must be
 * sorted ascending. */
static int sweep_fds(unsigned from, const int32_t *keep, uint32_t nkeep, size_t stride, unsigned flags)
{
    unsigned cur = from;
    for (uint32_t i = 0; i < nkeep; i++) {
        int32_t k = *(const int32_t *)((const char *)keep + i * stride);
        if (k < 0 || (unsigned)k < cur)
            continue;
        if (rs_close_span(cur, (unsigned)k - 1, flags) < 0)
            return -1;
        cur = (unsigned)k + 1;
    }
    return rs_close_span(cur, ~0U, flags);
}

static void bring_loopback_up(int report_fd)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail(report_fd, RS_STAGE_LOOPBACK, errno, 0, RS_EXIT_SETUP);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        fail(report_fd, RS_STAGE_LOOPBACK, errno, 0, RS_EXIT_SETUP);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        fail(report_fd, RS_STAGE_LOOPBACK, errno, 0, RS_EXIT_SETUP);
    close(s);
}

/* Puts the passed fds at their target numbers and marks every other fd >= 3 close-on-exec, so
 * the report pipe survives until the exec itself closes it. */
static void arrange_fds(const struct rs_plan *p, int *report_fd)
{
    if (p->nfds > 0) {
        /* Move the report pipe above every target first so no dup3 can clobber it. */
        int moved = fcntl(*report_fd, F_DUPFD_CLOEXEC, p->fd_floor);
        if (moved < 0)
            fail(*report_fd, RS_STAGE_FDS, errno, -1, RS_EXIT_SETUP);
        close(*report_fd);
        *report_fd = moved;
        for (uint32_t i = 0; i < p->nfds; i++) {
            p->fd_scratch[i] = fcntl(p->fds[i].source, F_DUPFD_CLOEXEC, p->fd_floor);
            if (p->fd_scratch[i] < 0)
                fail(*report_fd, RS_STAGE_FDS, errno, (int)i, RS_EXIT_SETUP);
        }
        for (uint32_t i = 0; i < p->nfds; i++) {
            if (dup3(p->fd_scratch[i], p->fds[i].target, 0) < 0)
                fail(*report_fd, RS_STAGE_FDS, errno, (int)i, RS_EXIT_SETUP);
        }
    }
    /* The plan sorts fds by target, so the targets are the keep list. */
    if (sweep_fds(3, p->nfds ? &p->fds[0].target : NULL, p->nfds, sizeof(struct rs_fd_map),
                  CLOSE_RANGE_CLOEXEC) < 0)
        fail(*report_fd, RS_STAGE_FDS, errno, -1, RS_EXIT_SETUP);
}

static int capset_to(uint64_t caps)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    for (int i = 0; i < 2; i++) {
        uint32_t word = (uint32_t)(caps >> (32 * i));
        d[i].effective = word;
        d[i].permitted = word;
        d[i].inheritable = word;
    }
    return (int)syscall(SYS_capset, &h, d);
}

/* Everything outside `keep` leaves the bounding set (needs CAP_SETPCAP: done while the process
 * still holds every capability of its namespace). */
static void drop_bounding(int last, uint64_t keep, int report_fd)
{
    for (int c = 0; c <= last && c < 64; c++) {
        if ((keep >> c) & 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            fail(report_fd, RS_STAGE_CAPS, errno, c, RS_EXIT_SETUP);
    }
}

/* Permitted, effective and inheritable become `keep`, and `keep` is raised in the ambient set so
 * that it survives the exec of a non-root command too (root's is bounded by the bounding set). */
static void set_capabilities(int last, uint64_t keep, int report_fd)
{
    if (capset_to(keep) < 0)
        fail(report_fd, RS_STAGE_CAPS, errno, -1, RS_EXIT_SETUP);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail(report_fd, RS_STAGE_CAPS, errno, -1, RS_EXIT_SETUP);
    for (int c = 0; c <= last && c < 64; c++) {
        if (((keep >> c) & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            fail(report_fd, RS_STAGE_CAPS, errno, c, RS_EXIT_SETUP);
    }
}

static int exec_failure_code(int err)
{
    return err == ENOENT || err == ENOTDIR ? RS_EXIT_NOT_FOUND : RS_EXIT_CANNOT_EXEC;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *c = buf;
    while (len > 0) {
        ssize_t n = read(fd, c, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The program the parent built while we set up. EOF: the parent gave up (it knows why). */
static uint32_t receive_filter(const struct rs_plan *p, int sync_fd, int report_fd)
{
    uint32_t len = 0;
    if (read_all(sync_fd, &len, sizeof len) < 0)
        _exit(RS_EXIT_SETUP);
    if (len == 0 || len % 8 != 0 || len > RS_SECCOMP_MAX)
        fail(report_fd, RS_STAGE_SECCOMP, EINVAL, 0, RS_EXIT_SETUP);
    if (read_all(sync_fd, p->seccomp_buf, len) < 0)
        _exit(RS_EXIT_SETUP);
    close(sync_fd);
    return len / 8;
}

static _Noreturn void exec_command(const struct rs_plan *p, int sync_fd, int report_fd)
{
    /* First, before any descriptor moves: the sync pipe may sit on a passed fd's target. */
    uint32_t filter_len = p->seccomp ? receive_filter(p, sync_fd, report_fd) : 0;
    arrange_fds(p, &report_fd);
    /* A terminal of its own (shell): session leader with the pty on fd 0 as controlling tty. */
    if (p->controlling_tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
        fail(report_fd, RS_STAGE_SESSION, errno, 0, RS_EXIT_SETUP);
    if (p->drop_caps) {
        drop_bounding(p->cap_last, p->cap_keep, report_fd);
        /* Kept capabilities must survive the switch to another uid below. */
        if (p->cap_keep && p->switch_uid >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
            fail(report_fd, RS_STAGE_CAPS, errno, -1, RS_EXIT_SETUP);
    }
    /* Range maps: become the inside ids asked for (this drops capabilities in the namespace). */
    if (p->switch_gid >= 0) {
        if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
            fail(report_fd, RS_STAGE_IDENTITY, errno, 0, RS_EXIT_SETUP);
        if (syscall(SYS_setresgid, (gid_t)p->switch_gid, (gid_t)p->switch_gid, (gid_t)p->switch_gid) < 0)
            fail(report_fd, RS_STAGE_IDENTITY, errno, 0, RS_EXIT_SETUP);
    }
    if (p->switch_uid >= 0
        && syscall(SYS_setresuid, (uid_t)p->switch_uid, (uid_t)p->switch_uid, (uid_t)p->switch_uid) < 0)
        fail(report_fd, RS_STAGE_IDENTITY, errno, 1, RS_EXIT_SETUP);
    if (p->drop_caps)
        set_capabilities(p->cap_last, p->cap_keep, report_fd);
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(report_fd, RS_STAGE_NO_NEW_PRIVS, errno, 0, RS_EXIT_SETUP);
    if (set_signal_mask(0) < 0)
        fail(report_fd, RS_STAGE_SIGNALS, errno, 0, RS_EXIT_SETUP);
    /* Last: from here on only the filter's allowed calls run (write for a report, execve). */
    if (filter_len) {
        struct sock_fprog prog = { (unsigned short)filter_len, (struct sock_filter *)p->seccomp_buf };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
            fail(report_fd, RS_STAGE_SECCOMP, errno, 0, RS_EXIT_SETUP);
    }

    char *const *argv = (char *const *)p->argv;
    char *const *envp = (char *const *)p->envp;
    const char *file = p->argv[0];
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        int err = errno;
        fail(report_fd, RS_STAGE_EXEC, err, 0, exec_failure_code(err));
    }

    /* execvpe without its allocation: try each PATH entry in the plan's scratch buffer. */
    size_t flen = strlen(file);
    const char *s = p->search_path ? p->search_path : "/usr/local/bin:/usr/bin:/bin";
    int seen_eacces = 0;
    for (;;) {
        const char *e = strchr(s, ':');
        size_t dlen = e ? (size_t)(e - s) : strlen(s);
        const char *dir = dlen ? s : ".";
        if (dlen == 0)
            dlen = 1;
        if (dlen + 1 + flen + 1 <= p->path_buf_len) {
            memcpy(p->path_buf, dir, dlen);
            p->path_buf[dlen] = '/';
            memcpy(p->path_buf + dlen + 1, file, flen + 1);
            execve(p->path_buf, argv, envp);
            switch (errno) {
            case EACCES:
                seen_eacces = 1;
                break;
            case ENOENT:
            case ENOTDIR:
            case ENAMETOOLONG:
            case ELOOP:
            case ESTALE:
            case ENODEV:
                break;
            default: {
                int err = errno;
                fail(report_fd, RS_STAGE_EXEC, err, 0, exec_failure_code(err));
            }
            }
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    int err = seen_eacces ? EACCES : ENOENT;
    fail(report_fd, RS_STAGE_EXEC, err, 0, exec_failure_code(err));
}

/* Signals pid 1 passes on to the command when a process (not the kernel's tty) sent them. */
static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return RS_EXIT_SETUP;
}

/* pid 1 of the sandbox: reaps every orphan, forwards signals, and leaves with the command's
 * status (also written raw on the status pipe, since an init cannot die of a signal itself). */
static _Noreturn void reaper_loop(int sfd, int status_fd, pid_t command)
{
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof si) {
            kill(command, SIGKILL);
            _exit(RS_EXIT_SETUP);
        }
        if (si.ssi_signo == SIGCHLD) {
            int status;
            pid_t w;
            while ((w = wait4(-1, &status, WNOHANG, NULL)) > 0) {
                if (w == command) {
                    ssize_t r;
                    do {
                        r = write(status_fd, &status, sizeof status);
                    } while (r < 0 && errno == EINTR);
                    _exit(exit_code_of(status));
                }
            }
        } else if (si.ssi_code != SI_KERNEL) {
            kill(command, (int)si.ssi_signo);
        }
    }
}

struct command_start {
    const struct rs_plan *p;
    int sync_fd;
    int report_fd;
};

static int command_main(void *arg)
{
    const struct command_start *s = arg;
    exec_command(s->p, s->sync_fd, s->report_fd);
}

static _Noreturn void start_reaper(const struct rs_plan *p, int sync_fd, int report_fd, int status_fd)
{
    uint64_t mask = 1ULL << (SIGCHLD - 1);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        mask |= 1ULL << (forwarded_signals[i] - 1);
    /* Everything stays blocked; the signalfd receives the ones pid 1 acts on. */
    int sfd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof mask, SFD_CLOEXEC);
    if (sfd < 0)
        fail(report_fd, RS_STAGE_REAPER, errno, 0, RS_EXIT_SETUP);

    /* pid 1 is not dumpable and gains no privileges from the start, so the command (which
     * holds fewer capabilities) can neither ptrace it nor open its /proc/1/mem, /proc/1/root or
     * its fds, not even in the moment after its exec. The command inherits both until its own
     * exec (which makes it dumpable again); it sets no_new_privs itself anyway. */
    if (p->drop_caps && (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0))
        fail(report_fd, RS_STAGE_REAPER, errno, 0, RS_EXIT_SETUP);

    /* The command shares pid 1's memory until it execs, and pid 1 waits until then
     * (CLONE_VFORK): no copy of an address space that execve throws away at once. Its stack is
     * the plan's; the clone wrapper is a few instructions of assembly, no allocation. */
    struct command_start start = { p, sync_fd, report_fd };
    pid_t command = clone(command_main, (char *)p->command_stack + RS_COMMAND_STACK,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    if (command < 0)
        fail(report_fd, RS_STAGE_REAPER, errno, 0, RS_EXIT_SETUP);

    /* pid 1 keeps only what it uses: CAP_KILL (the command may run as another uid). */
    if (p->drop_caps) {
        uint64_t kill_only = 1ULL << CAP_KILL;
        drop_bounding(p->cap_last, kill_only, report_fd);
        if (capset_to(kill_only) < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
            kill(command, SIGKILL);
            fail(report_fd, RS_STAGE_REAPER, errno, 0, RS_EXIT_SETUP);
        }
    }
    /* pid 1 holds nothing of the caller's: not stdio, not passed fds, not the report pipe. */
    int32_t keep[2] = { sfd < status_fd ? sfd : status_fd, sfd < status_fd ? status_fd : sfd };
    if (sweep_fds(0, keep, 2, sizeof keep[0], 0) < 0) {
        kill(command, SIGKILL);
        fail(report_fd, RS_STAGE_REAPER, errno, 0, RS_EXIT_SETUP);
    }
    reaper_loop(sfd, status_fd, command);
}

_Noreturn void rs_child_main(const struct rs_plan *p, const struct rs_child_fds *f)
{
    reset_signal_dispositions();
    close(f->sync_w);
    close(f->report_r);
    if (f->status_r >= 0)
        close(f->status_r);
    int report_fd = f->report_w;

    /* Set before waiting: if the parent dies before the release, the sync read sees EOF. */
    if (p->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(report_fd, RS_STAGE_PDEATHSIG, errno, 0, RS_EXIT_SETUP);

    char go;
    ssize_t n;
    do {
        n = read(f->sync_r, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(RS_EXIT_SETUP); /* the parent gave up (or died): nobody to report to */
    int sync_fd = f->sync_r;
    if (!p->seccomp) {
        close(sync_fd);
        sync_fd = -1;
    }

    /* Out of the caller's session: no controlling terminal to inject into (TIOCSTI), and no
     * signals from it; the supervisor forwards what the caller gets. */
    if (p->new_session && !p->controlling_tty && setsid() < 0)
        fail(report_fd, RS_STAGE_SESSION, errno, 0, RS_EXIT_SETUP);
    if (p->make_mounts_private && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(report_fd, RS_STAGE_MOUNT_PRIVATE, errno, 0, RS_EXIT_SETUP);
    if (p->new_root)
        rs_build_root(p, report_fd);
    else if (p->mount_proc && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(report_fd, RS_STAGE_MOUNT_PROC, errno, 0, RS_EXIT_SETUP);
    if (!p->new_root && p->mask_paths)
        rs_mask_paths(p->mask_paths, "/", "/dev/null", report_fd);
    if (p->hostname && sethostname(p->hostname, p->hostname_len) < 0)
        fail(report_fd, RS_STAGE_HOSTNAME, errno, 0, RS_EXIT_SETUP);
    if (p->loopback_up)
        bring_loopback_up(report_fd);
    if (p->cwd && chdir(p->cwd) < 0 && !(p->cwd_try && chdir("/") == 0))
        fail(report_fd, RS_STAGE_CHDIR, errno, 0, RS_EXIT_SETUP);

    if (p->reaper)
        start_reaper(p, sync_fd, report_fd, f->status_w);
    exec_command(p, sync_fd, report_fd);
}
