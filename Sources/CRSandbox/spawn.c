/* rs_spawn: clone3 into the plan's namespaces with a pidfd, the pipes that sequence the parent's
 * set-up (sync), carry child failures back (report) and the command's status (status), and the
 * keeper thread that makes die-with-parent follow the process rather than a worker thread. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args, version 2 (Linux 5.7): with the cgroup field. */
struct rs_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

/* clone3 with a pidfd and SIGCHLD; with `cgroup_fd` >= 0 the child is born in that cgroup
 * (CLONE_INTO_CGROUP: no moment in which it runs unlimited). 0 in the child, as clone3. */
static long clone3_pidfd(uint64_t flags, int cgroup_fd, int *pidfd)
{
    struct rs_clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = flags | CLONE_PIDFD;
    a.pidfd = (uint64_t)(uintptr_t)pidfd;
    a.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        a.flags |= CLONE_INTO_CGROUP;
        a.cgroup = (uint64_t)cgroup_fd;
    }
    return syscall(SYS_clone3, &a, sizeof a);
}

static void close_if_open(int fd)
{
    if (fd >= 0)
        close(fd);
}

static int spawn_here(const struct rs_plan *plan, struct rs_child *out)
{
    struct rs_child_fds f = { -1, -1, -1, -1, -1, -1 };
    int p[2];
    int err = 0;

    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    f.sync_r = p[0];
    f.sync_w = p[1];
    if (pipe2(p, O_CLOEXEC) < 0) {
        err = errno;
        goto fail;
    }
    f.report_r = p[0];
    f.report_w = p[1];
    if (plan->reaper) {
        if (pipe2(p, O_CLOEXEC) < 0) {
            err = errno;
            goto fail;
        }
        f.status_r = p[0];
        f.status_w = p[1];
    }

    /* No parent handler may run in the child before it resets them: block all around clone. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    int pidfd = -1;
    long pid = clone3_pidfd(plan->clone_flags, plan->cgroup_fd, &pidfd);
    if (pid == 0)
        rs_child_main(plan, &f);
    err = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        goto fail;

    close(f.sync_r);
    close(f.report_w);
    close_if_open(f.status_w);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->sync_fd = f.sync_w;
    out->report_fd = f.report_r;
    out->status_fd = f.status_r;
    return 0;

fail:
    close_if_open(f.sync_r);
    close_if_open(f.sync_w);
    close_if_open(f.report_r);
    close_if_open(f.report_w);
    close_if_open(f.status_r);
    close_if_open(f.status_w);
    return -err;
}

/* PR_SET_PDEATHSIG fires when the parent *thread* exits. A worker thread of a thread pool may
 * exit at any time, so spawns from threads other than the main one run on this thread, which
 * lives as long as the process. It runs one job at a time: a sandbox's clone, or a helper that
 * must die with the process (rs_spawn_bound). */
static pthread_once_t keeper_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t keeper_call = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t keeper_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t keeper_cv = PTHREAD_COND_INITIALIZER;
static int keeper_start_error;
static int (*keeper_job)(void *);
static void *keeper_arg;
static int keeper_result;
static int keeper_state; /* 0 idle, 1 request pending, 2 result ready */

static void *keeper_loop(void *unused)
{
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    pthread_mutex_lock(&keeper_mu);
    for (;;) {
        while (keeper_state != 1)
            pthread_cond_wait(&keeper_cv, &keeper_mu);
        pthread_mutex_unlock(&keeper_mu);
        int r = keeper_job(keeper_arg);
        pthread_mutex_lock(&keeper_mu);
        keeper_result = r;
        keeper_state = 2;
        pthread_cond_broadcast(&keeper_cv);
    }
    return NULL;
}

static void keeper_start(void)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    keeper_start_error = pthread_create(&t, &attr, keeper_loop, NULL);
    pthread_attr_destroy(&attr);
}

static int run_on_keeper(int (*job)(void *), void *arg)
{
    pthread_once(&keeper_once, keeper_start);
    if (keeper_start_error)
        return -keeper_start_error;
    pthread_mutex_lock(&keeper_call);
    pthread_mutex_lock(&keeper_mu);
    keeper_job = job;
    keeper_arg = arg;
    keeper_state = 1;
    pthread_cond_broadcast(&keeper_cv);
    while (keeper_state != 2)
        pthread_cond_wait(&keeper_cv, &keeper_mu);
    int r = keeper_result;
    keeper_state = 0;
    pthread_mutex_unlock(&keeper_mu);
    pthread_mutex_unlock(&keeper_call);
    return r;
}

struct spawn_job {
    const struct rs_plan *plan;
    struct rs_child *out;
};

static int spawn_job_run(void *arg)
{
    struct spawn_job *j = arg;
    return spawn_here(j->plan, j->out);
}

static int on_main_thread(void)
{
    return syscall(SYS_gettid) == getpid();
}

int rs_spawn(const struct rs_plan *plan, struct rs_child *out)
{
    if (plan->die_with_parent && !on_main_thread()) {
        struct spawn_job j = { plan, out };
        return run_on_keeper(spawn_job_run, &j);
    }
    return spawn_here(plan, out);
}

/* A helper bound to this process's life (pasta for --net user): killed by the kernel the moment
 * the process dies, SIGKILL included, because the thread that forked it (the main one, or the
 * keeper) lives exactly as long as the process. */
struct bound_job {
    const char *path;
    char *const *argv;
    int err_fd;
    pid_t pid;
    int pidfd;
};

extern char **environ;

/* In the fresh child: only system calls until exec; a failure's errno goes to `report`. */
static _Noreturn void bound_child(const struct bound_job *j, int report, pid_t parent)
{
    int err;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        goto fail;
    /* The parent may have died between the clone and the prctl: then nobody would kill us. */
    if (getppid() != parent)
        _exit(1);
    /* Out of the caller's session and process group: a Ctrl-C on its terminal is the command's,
     * never the helper's. */
    setsid();
    /* Inherited dispositions and the blocked mask are the supervisor's (it blocks SIGTERM for
     * forwarding, a runtime may ignore SIGPIPE — pasta refuses to start when SIGPIPE is already
     * ignored): the helper starts from the defaults. */
    /* The raw call: glibc's sigaction refuses its own two (32, 33), which may be ignored too.
     * All zero is SIG_DFL with no flags and an empty mask in the kernel's layout. */
    unsigned long dfl[4] = { 0, 0, 0, 0 };
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)syscall(SYS_rt_sigaction, sig, dfl, NULL, 8);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(j->err_fd, 2) < 0)
        goto fail;
    /* Nothing else of the supervisor's (a caller's pipe held open would never see EOF). */
    if (rs_close_span(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        goto fail;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(j->path, j->argv, environ);
fail:
    err = errno;
    (void)!write(report, &err, sizeof err);
    _exit(127);
}

static int spawn_bound_here(void *arg)
{
    struct bound_job *j = arg;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t parent = getpid();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    long pid = clone3_pidfd(0, -1, &pidfd);
    if (pid == 0)
        bound_child(j, p[1], parent);
    int err = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -err;
    }
    /* The pipe closes on exec (nothing read) or carries the errno of what failed before it. */
    int child_err = 0;
    ssize_t n;
    do {
        n = read(p[0], &child_err, sizeof child_err);
    } while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == sizeof child_err) {
        int status;
        while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
        }
        close(pidfd);
        return -child_err;
    }
    j->pid = (pid_t)pid;
    j->pidfd = pidfd;
    return 0;
}

int rs_spawn_bound(const char *path, char *const argv[], int err_fd, int *pid, int *pidfd)
{
    struct bound_job j = { path, argv, err_fd, -1, -1 };
    int r = on_main_thread() ? spawn_bound_here(&j) : run_on_keeper(spawn_bound_here, &j);
    if (r == 0) {
        *pid = j.pid;
        *pidfd = j.pidfd;
    }
    return r;
}

int rs_release(struct rs_child *child, int keep_sync)
{
    char go = 1;
    ssize_t n;
    do {
        n = write(child->sync_fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    int err = n == 1 ? 0 : (n < 0 ? errno : EIO);
    if (!keep_sync || err) {
        close(child->sync_fd);
        child->sync_fd = -1;
    }
    return -err;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rs_send_filter(struct rs_child *child, const void *prog, uint32_t len)
{
    int err = 0;
    if (prog && child->sync_fd >= 0) {
        /* A child that failed its set-up has closed its end: EPIPE, not a SIGPIPE that would kill
         * the supervisor. The signal is blocked here and a pending one is consumed. */
        sigset_t pipe_set, old;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        err = write_all(child->sync_fd, &len, sizeof len);
        if (!err)
            err = write_all(child->sync_fd, prog, len);
        if (err == EPIPE && !sigismember(&old, SIGPIPE)) {
            struct timespec zero = { 0, 0 };
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (child->sync_fd >= 0)
        close(child->sync_fd);
    child->sync_fd = -1;
    return -err;
}

int rs_read_report(int fd, struct rs_report *report)
{
    size_t got = 0;
    char *buf = (char *)report;
    while (got < sizeof *report) {
        ssize_t n = read(fd, buf + got, sizeof *report - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got == 0)
        return 0;
    return got == sizeof *report ? 1 : -EIO;
}

_Static_assert(RS_CLONE_NEWUSER == CLONE_NEWUSER && RS_CLONE_NEWPID == CLONE_NEWPID
               && RS_CLONE_NEWNS == CLONE_NEWNS && RS_CLONE_NEWNET == CLONE_NEWNET
               && RS_CLONE_NEWIPC == CLONE_NEWIPC && RS_CLONE_NEWUTS == CLONE_NEWUTS
               && RS_CLONE_NEWCGROUP == CLONE_NEWCGROUP, "CLONE_NEW* values");
