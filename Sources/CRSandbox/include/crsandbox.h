/* CRSandbox: the flat plan the parent builds, rs_spawn (clone3), the child executor and the
 * pid-1 reaper. Everything in the child after clone3 is raw syscalls: no allocation, no stdio,
 * no locks. The parent (Swift) owns every pointer in the plan and keeps it alive across rs_spawn. */
#ifndef CRSANDBOX_H
#define CRSANDBOX_H

#include <stdint.h>
#include <sys/types.h>

/* Where a child-side failure happened. Stable numbers: they cross the report pipe. */
enum rs_stage {
    RS_STAGE_NONE = 0,
    RS_STAGE_CLONE = 1,          /* parent: clone3 itself */
    RS_STAGE_SYNC = 2,           /* child: waiting for the parent's release */
    RS_STAGE_PDEATHSIG = 3,
    RS_STAGE_MOUNT_PRIVATE = 4,
    RS_STAGE_MOUNT_PROC = 5,
    RS_STAGE_HOSTNAME = 6,
    RS_STAGE_LOOPBACK = 7,
    RS_STAGE_CHDIR = 8,
    RS_STAGE_REAPER = 9,         /* pid 1: signalfd or fork of the command */
    RS_STAGE_SIGNALS = 10,       /* resetting the signal mask and dispositions */
    RS_STAGE_FDS = 11,           /* index = position in the fd list */
    RS_STAGE_EXEC = 12,
    RS_STAGE_NEW_ROOT = 13,      /* the staging tmpfs, the first pivot_root, the new root */
    RS_STAGE_MOUNT_SOURCE = 14,  /* index = mount op: opening its source */
    RS_STAGE_MOUNT_TARGET = 15,  /* index = mount op: resolving or creating its destination */
    RS_STAGE_MOUNT = 16,         /* index = mount op: making, configuring or attaching it */
    RS_STAGE_PIVOT = 17,         /* the final pivot_root into the new root, detaching the old */
    RS_STAGE_SESSION = 18,       /* setsid, or the controlling terminal */
    RS_STAGE_IDENTITY = 19,      /* setgroups/setresgid/setresuid to the inside ids asked for */
    RS_STAGE_CAPS = 20,          /* index = capability number (bounding set, ambient), -1 = capset */
    RS_STAGE_NO_NEW_PRIVS = 21,
    RS_STAGE_SECCOMP = 22,       /* loading the precomputed filter, the last step before execve */
    RS_STAGE_MASK = 23,          /* index = rs_masked_path(index): masking or making it read-only */
};

/* One step of the filesystem plan, executed in order inside the new root. */
enum rs_mount_kind {
    RS_MOUNT_BIND = 1,           /* source (host path) onto dest */
    RS_MOUNT_TMPFS = 2,          /* options: "mode=…,size=…" */
    RS_MOUNT_PROC = 3,
    RS_MOUNT_DEV = 4,            /* a minimal /dev */
    RS_MOUNT_MQUEUE = 5,
    RS_MOUNT_DIR = 6,            /* mode */
    RS_MOUNT_SYMLINK = 7,        /* source = the link's text */
    RS_MOUNT_FILE = 8,           /* data/data_len, mode */
    RS_MOUNT_REMOUNT_RO = 9,
    RS_MOUNT_CHMOD = 10,         /* mode */
    RS_MOUNT_OVERLAY = 11,       /* lowerdir, upperdir, workdir, scratch */
};

#define RS_MOUNT_F_READONLY 0x1u /* bind, overlay: read-only, recursively */
#define RS_MOUNT_F_DEVICES  0x2u /* bind: keep device access (no nodev) */
#define RS_MOUNT_F_TRY      0x4u /* bind: skip when the source does not exist */
#define RS_MOUNT_F_VOLATILE 0x8u /* overlay: upper in scratch on the staging tmpfs, no syncs */
#define RS_MOUNT_F_MODE     0x10u /* mode is set */

struct rs_mount_op {
    uint32_t kind;
    uint32_t flags;
    const char *source;          /* host path as seen after the first pivot ("/oldroot/…") */
    const char *dest;            /* path inside the new root, without the leading '/' ("" = root) */
    char *options;               /* tmpfs: "k=v,k=v"; the child splits it in place */
    const char *data;            /* file contents */
    uint32_t data_len;
    uint32_t mode;
    const char *lowerdir;        /* overlay: "/oldroot/a:/oldroot/b" (':' and '\' escaped) */
    const char *upperdir;
    const char *workdir;
    const char *scratch;         /* overlay, volatile: directory to create on the staging tmpfs */
};

/* The CLONE_NEW* bits (Swift's Glibc module hides them without _GNU_SOURCE). */
#define RS_CLONE_NEWNS     0x00020000ULL
#define RS_CLONE_NEWCGROUP 0x02000000ULL
#define RS_CLONE_NEWUTS    0x04000000ULL
#define RS_CLONE_NEWIPC    0x08000000ULL
#define RS_CLONE_NEWUSER   0x10000000ULL
#define RS_CLONE_NEWPID    0x20000000ULL
#define RS_CLONE_NEWNET    0x40000000ULL

/* Exit codes the child uses when it cannot report (the report pipe is gone). */
#define RS_EXIT_SETUP 125
#define RS_EXIT_CANNOT_EXEC 126
#define RS_EXIT_NOT_FOUND 127

struct rs_fd_map {
    int32_t source;              /* fd in the parent */
    int32_t target;              /* fd number the command sees */
};

struct rs_plan {
    uint64_t clone_flags;        /* CLONE_NEW* bits only; rs_spawn adds CLONE_PIDFD */
    const char *const *argv;     /* NULL-terminated */
    const char *const *envp;     /* NULL-terminated */
    const char *search_path;     /* PATH used to find argv[0] when it has no '/' */
    const char *cwd;             /* NULL: keep the parent's */
    const char *hostname;        /* NULL: keep */
    uint32_t hostname_len;
    uint32_t nfds;
    const struct rs_fd_map *fds;
    int32_t *fd_scratch;         /* nfds ints the child may write (its own copy of the page) */
    char *path_buf;              /* scratch for "dir/argv0" during the PATH search */
    uint32_t path_buf_len;
    int32_t fd_floor;            /* > every source and target: internal fds move above it */
    uint8_t die_with_parent;
    uint8_t make_mounts_private;
    uint8_t mount_proc;
    uint8_t loopback_up;
    uint8_t reaper;              /* fork a pid-1 reaper; the command becomes pid 2 */
    uint8_t new_root;            /* build a new root from mount_ops (and rootfs) and pivot into it */
    uint8_t cwd_try;             /* cwd is a wish: fall back to "/" when it does not exist */
    uint8_t new_session;         /* setsid before exec (no controlling terminal) */
    uint8_t controlling_tty;     /* setsid and make fd 0 the controlling terminal */
    const char *rootfs;          /* "/oldroot/…" to bind as the new root; NULL: a fresh tmpfs */
    int32_t cgroup_fd;           /* >= 0: born in this cgroup (CLONE_INTO_CGROUP) */
    int64_t switch_uid;          /* >= 0: setresuid to it before exec (range maps) */
    int64_t switch_gid;          /* >= 0: setgroups(0) if allowed, then setresgid */
    uint32_t nmounts;
    const struct rs_mount_op *mounts;
    /* Hardening, applied to the command only (the reaper hardens itself, see child.c). */
    uint8_t drop_caps;           /* bounding, inheritable, ambient, permitted, effective := cap_keep */
    uint8_t no_new_privs;
    uint8_t mask_paths;          /* RS_MASK_* bits */
    int32_t cap_last;            /* the kernel's highest capability number */
    uint64_t cap_keep;           /* bit n = capability n survives */
    /* Seccomp: the parent builds the program while the child sets up (after rs_release) and
     * sends it on the sync pipe (rs_send_filter); the child reads it into this buffer. */
    uint8_t seccomp;             /* 1: read a program and load it last before execve */
    void *seccomp_buf;           /* RS_SECCOMP_MAX bytes the child may write (its own copy) */
    /* The stack the reaper starts the command on (clone with CLONE_VM|CLONE_VFORK, like
     * posix_spawn: no copy of the address space for a process that execs at once). */
    void *command_stack;         /* RS_COMMAND_STACK bytes, 16-aligned; NULL without a reaper */
};

#define RS_COMMAND_STACK (256 * 1024)

/* BPF_MAXINSNS instructions of 8 bytes: the longest program the kernel takes. */
#define RS_SECCOMP_MAX (4096 * 8)

#define RS_MASK_PROC 0x1u        /* kernel files of /proc hidden, /proc/sys and others read-only */
#define RS_MASK_SYS  0x2u        /* /sys/firmware and others hidden */

/* The path (relative to the root) behind an RS_STAGE_MASK index, or NULL. */
const char *rs_masked_path(int index);

/* What the child writes on the report pipe on failure. EOF without a report = exec succeeded. */
struct rs_report {
    int32_t stage;
    int32_t err;
    int32_t index;
};

/* The parent's side of a freshly cloned child that waits on the sync pipe. */
struct rs_child {
    pid_t pid;
    int pidfd;
    int sync_fd;                 /* write end: one byte releases the child; close aborts it */
    int report_fd;               /* read end */
    int status_fd;               /* read end: the reaper writes the command's wait status */
};

/* clone3 with CLONE_PIDFD | plan->clone_flags. Returns 0 or -errno. On success the child waits
 * for rs_release. Called off the main thread, the clone happens on a long-lived keeper thread so
 * that PR_SET_PDEATHSIG (which follows the parent *thread*) fires only when the process dies. */
int rs_spawn(const struct rs_plan *plan, struct rs_child *out);

/* Releases the child (the parent has written its maps). Returns 0 or -errno. With `keep_sync`
 * the sync pipe stays open for rs_send_filter. */
int rs_release(struct rs_child *child, int keep_sync);

/* Sends the seccomp program (len bytes, a multiple of 8, at most RS_SECCOMP_MAX) on the sync
 * pipe and closes it; prog NULL just closes it (the child then leaves without a report).
 * 0, or -errno (EPIPE: the child is gone; its report says why). Never raises SIGPIPE. */
int rs_send_filter(struct rs_child *child, const void *prog, uint32_t len);

/* Reads the report pipe to EOF. Returns 1 with *report filled, 0 on EOF (exec happened), -errno. */
int rs_read_report(int fd, struct rs_report *report);

/* Thin wrappers for syscalls Glibc does not expose. Return the result or -errno. */
int rs_pidfd_send_signal(int pidfd, int sig);
/* waitid(P_PIDFD). options: WEXITED [| WNOHANG]. Returns 1 with *status set as for waitpid,
 * 0 if WNOHANG and still running, -errno. */
int rs_pidfd_wait(int pidfd, int options, int *status);
/* Blocks `sigs` (a mask of signal numbers < 64) in the calling thread and returns a signalfd. */
int rs_signalfd_for(uint64_t sigs);
/* Reads one signal from a signalfd: returns the signal number, with *from_kernel set when the
 * kernel (a tty, a hangup) sent it rather than a process; 0 if none is pending; -errno. */
int rs_signalfd_read(int fd, int *from_kernel);
/* Restores the given signals' mask bits (unblocks them) in the calling thread. */
int rs_unblock(uint64_t sigs);

/* getxattr(2); returns the size or -errno. */
/* A pseudo-terminal pair, both ends O_CLOEXEC and not our controlling tty. 0 or -errno. */
int rs_pty_open(int *master, int *replica);
/* Copies the window size of terminal `from` to `to`. 0 or -errno. */
int rs_winsize_copy(int from, int to);
int rs_winsize_set(int fd, unsigned short rows, unsigned short cols);

/* Runs a helper (posix_spawn, stdin/stdout on /dev/null) and collects what it writes on stderr
 * into err (NUL-terminated). Returns its wait status, or -errno when it could not run. */
int rs_run_helper(const char *path, char *const argv[], char *err, unsigned long errlen);

/* Starts `path` with `argv` as a child that the kernel kills (SIGKILL) when this process dies
 * (PR_SET_PDEATHSIG, set on the main thread or the keeper so that it follows the process): in a
 * session of its own, signals at their defaults, stdin and stdout on /dev/null, stderr on
 * `err_fd`. On success *pid and *pidfd name it (the caller reaps it). 0 or -errno (of the fork,
 * or of the exec). */
int rs_spawn_bound(const char *path, char *const argv[], int err_fd, int *pid, int *pidfd);

/* Sends one request to the SOCK_SEQPACKET unix socket at `path` (rsandbox-netd), with `fd`
 * attached by SCM_RIGHTS when fd >= 0, and reads the one-message answer into `answer`
 * (NUL-terminated), waiting at most `timeout_ms`. Returns the answer's length or -errno. */
long rs_seqpacket_ask(const char *path, const void *request, unsigned long length, int fd,
                      char *answer, unsigned long capacity, int timeout_ms);

/* strerrorname_np(3): "ENOENT", or NULL. */
const char *rs_errno_name(int err);

/* Capabilities by name (libcap): "cap_net_admin" -> 12, or -1. */
int rs_cap_from_name(const char *name);
/* libcap's name of capability n ("cap_chown"; a number for one libcap does not know). */
void rs_cap_name(int n, char *buf, unsigned long len);
/* The highest capability number this kernel knows. */
int rs_cap_last(void);

/* Seccomp programs, built with libseccomp in the parent (seccomp.c). A context is opaque. */
void *rs_seccomp_new(uint32_t default_action);
void rs_seccomp_free(void *ctx);
/* Adds an architecture by libseccomp name ("x86", "x86_64"); "native-compat" adds the 32-bit
 * ABIs of the native one (x86 on x86_64 — x32 calls are killed —, arm on aarch64). 0 or -errno. */
int rs_seccomp_arch(void *ctx, const char *name);
struct rs_seccomp_arg {
    uint32_t index;              /* argument 0-5 */
    uint32_t op;                 /* enum scmp_compare: 1 NE, 2 LT, 3 LE, 4 EQ, 5 GE, 6 GT, 7 MASKED_EQ */
    uint64_t value;
    uint64_t value_two;          /* MASKED_EQ: the value; value is the mask */
};
/* Adds a rule. 0, 1 when the syscall name is unknown to libseccomp, or -errno. */
int rs_seccomp_rule(void *ctx, const char *syscall, uint32_t action,
                    const struct rs_seccomp_arg *args, uint32_t nargs);
/* Whether libseccomp knows a syscall by this name (on any architecture). */
int rs_seccomp_known(const char *syscall);
/* The action values (libseccomp's SCMP_ACT_*). */
uint32_t rs_seccomp_action_errno(uint32_t err);
uint32_t rs_seccomp_action_trace(uint32_t msg);
/* The BPF program, malloc'd (free it): *len bytes. 0 or -errno. */
int rs_seccomp_export(void *ctx, void **program, unsigned long *len);

long rs_getxattr(const char *path, const char *name, void *buf, unsigned long size);

#endif
