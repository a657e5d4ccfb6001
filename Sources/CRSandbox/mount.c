/* The child's filesystem plan: a staging tmpfs, the old root moved aside, a new root (a tmpfs or
 * the rootfs), the mount ops executed in order, then pivot_root into the new root with the old
 * one detached.
 *
 * Destinations are resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) against the new
 * root, so a symlink in a rootfs (`evil -> /`) resolves inside it, never to the host; mounts are
 * attached by fd (open_tree/fsmount + move_mount). Same rules as child.c: raw syscalls, no
 * allocation, failures reported as {stage, errno, op index}. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <unistd.h>

/* Where the staging tmpfs goes; it becomes "/" until the final pivot. */
static const char staging_dir[] = "/tmp";

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags | O_CLOEXEC;
    how.resolve = resolve;
    int fd;
    do {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN);
    return fd;
}

/* `rel` inside the new root; "" is the root itself. */
static int open_in_root(int rootfd, const char *rel, uint64_t flags)
{
    return sys_openat2(rootfd, rel[0] ? rel : ".", flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

static int open_tree_clone(const char *path, unsigned flags)
{
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
}

#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif

static int set_attrs(int fd, uint64_t attrs, unsigned at_flags);

/* A detached clone of `path` with `attrs` set on every mount of it. open_tree_attr (6.15) does
 * both in one call; older kernels take open_tree + mount_setattr, with the same result. */
static int clone_with_attrs(const char *path, unsigned flags, uint64_t attrs)
{
    static int have_open_tree_attr = 1;
    unsigned at_flags = flags & AT_RECURSIVE;
    if (have_open_tree_attr) {
        struct mount_attr a;
        memset(&a, 0, sizeof a);
        a.attr_set = attrs;
        int fd = (int)syscall(SYS_open_tree_attr, AT_FDCWD, path,
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags, &a, sizeof a);
        if (fd >= 0 || (errno != ENOSYS && errno != EINVAL))
            return fd;
        have_open_tree_attr = 0;
    }
    int fd = open_tree_clone(path, flags);
    if (fd >= 0 && set_attrs(fd, attrs, at_flags) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int attach(int mountfd, int targetfd)
{
    return (int)syscall(SYS_move_mount, mountfd, "", targetfd, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int set_attrs(int fd, uint64_t attrs, unsigned at_flags)
{
    struct mount_attr a;
    memset(&a, 0, sizeof a);
    a.attr_set = attrs;
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | at_flags, &a, sizeof a);
}

/* A new filesystem as a detached mount. `options` ("k=v,flag,k=v") is split in place. */
static int make_fs(const char *type, char *options, uint64_t attrs)
{
    int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    char *o = options;
    while (o && *o) {
        char *end = strchr(o, ',');
        if (end)
            *end = '\0';
        char *eq = strchr(o, '=');
        int r;
        if (eq) {
            *eq = '\0';
            r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, o, eq + 1, 0);
        } else {
            r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, o, NULL, 0);
        }
        if (r < 0) {
            int e = errno;
            close(fs);
            errno = e;
            return -1;
        }
        o = end ? end + 1 : NULL;
    }
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int e = errno;
        close(fs);
        errno = e;
        return -1;
    }
    int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
    int e = errno;
    close(fs);
    errno = e;
    return m;
}

/* Creates every missing directory of `rel` (all of it, or all but the last component) inside
 * the root and returns an fd for the deepest one. Each component is created with mkdirat on
 * the fd of its parent as resolved in the root, so nothing is ever created outside it. */
static int make_dirs(int rootfd, const char *rel, int include_last, char *buf, size_t buflen)
{
    size_t len = strlen(rel);
    if (len + 1 > buflen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, rel, len + 1);
    if (!include_last) {
        char *slash = strrchr(buf, '/');
        if (slash)
            *slash = '\0';
        else
            buf[0] = '\0';
    }
    int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    if (dirfd < 0 || buf[0] == '\0')
        return dirfd;
    char *p = buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        /* buf now holds the prefix up to and including this component. */
        int next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(dirfd);
                errno = e;
                return -1;
            }
            next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
        }
        int e = errno;
        close(dirfd);
        if (next < 0) {
            errno = e;
            return -1;
        }
        dirfd = next;
        if (!slash)
            return dirfd;
        *slash = '/';
        p = slash + 1;
    }
}

static const char *last_component(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? slash + 1 : rel;
}

/* The last parent directory a destination was made in, kept open: binds often go side by side
 * (/mnt/a, /mnt/b, …) and resolving the parent is a large part of each one's cost. Kept only
 * while every mount lands on a directory just created in it: any other destination (one that
 * existed, possibly a symlink to the cached directory or above it) could cover it, and the fd
 * would then name the covered directory. */
struct parent_cache {
    int fd;
    size_t len;
    char path[4096];
};

static struct parent_cache cache = { -1, 0, { 0 } };

static void cache_drop(void)
{
    if (cache.fd >= 0)
        close(cache.fd);
    cache.fd = -1;
    cache.len = 0;
}

/* An fd for the parent of `rel` (resolved in the root, made if missing). Owned by the cache. */
static int parent_of(int rootfd, const char *rel, char *buf, size_t buflen)
{
    const char *name = last_component(rel);
    size_t plen = name == rel ? 0 : (size_t)(name - rel) - 1;
    if (cache.fd >= 0 && plen == cache.len && memcmp(cache.path, rel, plen) == 0)
        return cache.fd;
    if (plen + 1 > sizeof cache.path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    cache_drop();
    int fd = make_dirs(rootfd, rel, 0, buf, buflen);
    if (fd < 0)
        return -1;
    memcpy(cache.path, rel, plen);
    cache.path[plen] = '\0';
    cache.len = plen;
    cache.fd = fd;
    return fd;
}

struct op_ctx {
    const struct rs_plan *p;
    int report_fd;
    int index;
};

static _Noreturn void op_fail(const struct op_ctx *c, int stage, int err)
{
    rs_child_fail(c->report_fd, stage, err, c->index);
}

/* Attaches `mountfd` at `rel`: on a directory (or, for a non-directory source, an empty file)
 * made there first, which is one call when it is new and lets the cached parent stay. One that
 * already existed is resolved in the root, so a symlink there is followed inside the new root,
 * never out of it; and since it may be the cached directory or above it, the cache goes. */
static void attach_at(const struct op_ctx *c, int rootfd, int mountfd, const char *rel, int directory)
{
    if (rel[0] != '\0') {
        int parent = parent_of(rootfd, rel, c->p->path_buf, c->p->path_buf_len);
        if (parent < 0)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
        const char *name = last_component(rel);
        int r;
        if (directory) {
            r = mkdirat(parent, name, 0755);
        } else {
            r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (r >= 0)
                r = close(r);
        }
        if (r == 0) {
            /* Just made by us in a parent resolved inside the root: no symlink to follow. */
            if (syscall(SYS_move_mount, mountfd, "", parent, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                op_fail(c, RS_STAGE_MOUNT, errno);
            close(mountfd);
            return;
        }
        if (errno != EEXIST)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    }
    cache_drop();
    int target = open_in_root(rootfd, rel, O_PATH);
    if (target < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    if (attach(mountfd, target) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(target);
    close(mountfd);
}

static void do_bind(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    uint64_t attrs = MOUNT_ATTR_NOSUID;
    if (!(op->flags & RS_MOUNT_F_DEVICES))
        attrs |= MOUNT_ATTR_NODEV;
    if (op->flags & RS_MOUNT_F_READONLY)
        attrs |= MOUNT_ATTR_RDONLY;
    /* Recursive: every submount of the clone is read-only (nosuid, nodev) before it is visible. */
    int src = clone_with_attrs(op->source, AT_RECURSIVE, attrs);
    if (src < 0) {
        if ((op->flags & RS_MOUNT_F_TRY) && errno == ENOENT)
            return;
        op_fail(c, errno == ENOENT || errno == EACCES || errno == ENOTDIR ? RS_STAGE_MOUNT_SOURCE : RS_STAGE_MOUNT, errno);
    }
    struct stat st;
    if (fstat(src, &st) < 0)
        op_fail(c, RS_STAGE_MOUNT_SOURCE, errno);
    attach_at(c, rootfd, src, op->dest, S_ISDIR(st.st_mode));
}

/* A fresh filesystem of `type` attached at `rel`. */
static void mount_new_fs(const struct op_ctx *c, int rootfd, const char *type, char *options,
                         uint64_t attrs, const char *rel)
{
    int m = make_fs(type, options, attrs);
    if (m < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    attach_at(c, rootfd, m, rel, 1);
}

static void bind_dev_node(const struct op_ctx *c, int devfd, const char *name)
{
    char *buf = c->p->path_buf;
    static const char prefix[] = "/oldroot/dev/";
    size_t n = strlen(name);
    memcpy(buf, prefix, sizeof prefix - 1);
    memcpy(buf + sizeof prefix - 1, name, n + 1);
    int src = clone_with_attrs(buf, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    if (src < 0)
        op_fail(c, RS_STAGE_MOUNT_SOURCE, errno);
    int f = openat(devfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    close(f);
    int target = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    if (attach(src, target) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(target);
    close(src);
}

static void mount_in_dir(const struct op_ctx *c, int dirfd, const char *name, const char *type,
                         char *options, uint64_t attrs, mode_t mode)
{
    if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    int target = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    int m = make_fs(type, options, attrs);
    if (m < 0 || attach(m, target) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(m);
    close(target);
}

/* A minimal /dev: a tmpfs with the harmless host devices bound in, a private devpts, shm and
 * the fd links. Nothing else of the host's /dev is reachable. */
static void do_dev(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    char dev_opts[] = "mode=0755";
    mount_new_fs(c, rootfd, "tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, op->dest);
    int devfd = open_in_root(rootfd, op->dest, O_PATH | O_DIRECTORY);
    if (devfd < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        bind_dev_node(c, devfd, nodes[i]);
    char pts_opts[] = "newinstance,ptmxmode=0666,mode=620";
    mount_in_dir(c, devfd, "pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0755);
    char shm_opts[] = "mode=1777";
    mount_in_dir(c, devfd, "shm", "tmpfs", shm_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 01777);
    static const char *const links[][2] = {
        { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlinkat(links[i][0], devfd, links[i][1]) < 0)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    close(devfd);
}

static void do_overlay(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    if (op->scratch) {
        /* A temporary upper layer on the staging tmpfs: unreachable after the pivot, it lives
         * as long as the overlay and is gone when the sandbox ends. */
        if (mkdir(op->scratch, 0700) < 0 || mkdir(op->upperdir, 0755) < 0 || mkdir(op->workdir, 0700) < 0)
            op_fail(c, RS_STAGE_MOUNT_SOURCE, errno);
    }
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    int stage = RS_STAGE_MOUNT_SOURCE;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", op->lowerdir, 0) < 0)
        op_fail(c, stage, errno);
    if (op->upperdir) {
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", op->upperdir, 0) < 0
            || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", op->workdir, 0) < 0)
            op_fail(c, stage, errno);
    }
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    if ((op->flags & RS_MOUNT_F_VOLATILE) && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (op->flags & RS_MOUNT_F_READONLY)
        attrs |= MOUNT_ATTR_RDONLY;
    int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
    if (m < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(fs);
    attach_at(c, rootfd, m, op->dest, 1);
}

static void do_file(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    int parent = make_dirs(rootfd, op->dest, 0, c->p->path_buf, c->p->path_buf_len);
    if (parent < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    mode_t mode = (op->flags & RS_MOUNT_F_MODE) ? op->mode : 0644;
    int f = openat(parent, last_component(op->dest), O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    uint32_t off = 0;
    while (off < op->data_len) {
        ssize_t n = write(f, op->data + off, op->data_len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            op_fail(c, RS_STAGE_MOUNT, errno);
        }
        off += (uint32_t)n;
    }
    if (fchmod(f, mode) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(f);
    close(parent);
}

static void do_symlink(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    int parent = make_dirs(rootfd, op->dest, 0, c->p->path_buf, c->p->path_buf_len);
    if (parent < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    if (symlinkat(op->source, parent, last_component(op->dest)) < 0) {
        if (errno != EEXIST)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
        /* An existing link is fine when it says the same thing. */
        char *buf = c->p->path_buf;
        ssize_t n = readlinkat(parent, last_component(op->dest), buf, c->p->path_buf_len - 1);
        if (n < 0 || (size_t)n != strlen(op->source) || memcmp(buf, op->source, (size_t)n) != 0)
            op_fail(c, RS_STAGE_MOUNT_TARGET, EEXIST);
    }
    close(parent);
}

/* chmod of `rel` resolved in the root (an O_PATH fd cannot be fchmod'ed: open it for reading). */
static void chmod_in_root(const struct op_ctx *c, int rootfd, const char *rel, uint32_t mode)
{
    int f = open_in_root(rootfd, rel, O_RDONLY | O_NONBLOCK);
    if (f < 0)
        op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
    if (fchmod(f, mode) < 0)
        op_fail(c, RS_STAGE_MOUNT, errno);
    close(f);
}

static void do_op(const struct op_ctx *c, int rootfd, const struct rs_mount_op *op)
{
    switch (op->kind) {
    case RS_MOUNT_BIND:
        do_bind(c, rootfd, op);
        break;
    case RS_MOUNT_TMPFS:
        mount_new_fs(c, rootfd, "tmpfs", op->options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, op->dest);
        break;
    case RS_MOUNT_PROC:
        mount_new_fs(c, rootfd, "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, op->dest);
        break;
    case RS_MOUNT_MQUEUE:
        mount_new_fs(c, rootfd, "mqueue", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, op->dest);
        break;
    case RS_MOUNT_DEV:
        do_dev(c, rootfd, op);
        break;
    case RS_MOUNT_OVERLAY:
        do_overlay(c, rootfd, op);
        break;
    case RS_MOUNT_DIR: {
        int d = make_dirs(rootfd, op->dest, 1, c->p->path_buf, c->p->path_buf_len);
        if (d < 0)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
        close(d);
        if (op->flags & RS_MOUNT_F_MODE)
            chmod_in_root(c, rootfd, op->dest, op->mode);
        break;
    }
    case RS_MOUNT_SYMLINK:
        do_symlink(c, rootfd, op);
        break;
    case RS_MOUNT_FILE:
        do_file(c, rootfd, op);
        break;
    case RS_MOUNT_REMOUNT_RO: {
        int t = open_in_root(rootfd, op->dest, O_PATH);
        if (t < 0)
            op_fail(c, RS_STAGE_MOUNT_TARGET, errno);
        if (set_attrs(t, MOUNT_ATTR_RDONLY, AT_RECURSIVE) < 0)
            op_fail(c, RS_STAGE_MOUNT, errno);
        close(t);
        break;
    }
    case RS_MOUNT_CHMOD:
        chmod_in_root(c, rootfd, op->dest, op->mode);
        break;
    default:
        op_fail(c, RS_STAGE_MOUNT, EINVAL);
    }
}

void rs_build_root(const struct rs_plan *p, int report_fd)
{
    char root_opts[] = "mode=0755";
    if (mount("tmpfs", staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0
        || chdir(staging_dir) < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0
        || syscall(SYS_pivot_root, ".", "oldroot") < 0 || chdir("/") < 0)
        rs_child_fail(report_fd, RS_STAGE_NEW_ROOT, errno, -1);

    int newroot = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (newroot < 0)
        rs_child_fail(report_fd, RS_STAGE_NEW_ROOT, errno, -1);
    int m;
    if (p->rootfs) {
        m = clone_with_attrs(p->rootfs, AT_RECURSIVE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    } else {
        m = make_fs("tmpfs", root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    }
    if (m < 0 || attach(m, newroot) < 0)
        rs_child_fail(report_fd, RS_STAGE_NEW_ROOT, errno, -1);
    close(m);
    close(newroot);

    struct op_ctx c = { p, report_fd, 0 };
    int rootfd = -1;
    for (uint32_t i = 0; i < p->nmounts; i++) {
        /* A mount on the root itself stacks above the mount rootfd holds: reopen after one. */
        if (rootfd < 0 && (rootfd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            rs_child_fail(report_fd, RS_STAGE_NEW_ROOT, errno, (int)i);
        c.index = (int)i;
        do_op(&c, rootfd, &p->mounts[i]);
        if (p->mounts[i].dest[0] == '\0') {
            close(rootfd);
            rootfd = -1;
        }
    }
    if (rootfd >= 0)
        close(rootfd);
    cache_drop();
    /* Before the old root goes: the masks bind its /dev/null. */
    if (p->mask_paths)
        rs_mask_paths(p->mask_paths, "/newroot", "/oldroot/dev/null", report_fd);

    /* The old root goes first (nothing of the host stays reachable), then the staging tmpfs:
     * pivot_root(".", ".") stacks it above the new root and the detach removes it. */
    if (umount2("/oldroot", MNT_DETACH) < 0 || chdir("/newroot") < 0
        || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        rs_child_fail(report_fd, RS_STAGE_PIVOT, errno, -1);
}

/* podman's lists (containers/common: DefaultMaskedPaths, DefaultReadOnlyPaths), relative to the
 * root. Hidden: kernel memory, keys, timers, firmware tables. Read-only: what a root inside could
 * otherwise write through to the kernel. The first group belongs to /proc, the second to /sys. */
static const char *const masked_paths[] = {
    "proc/acpi", "proc/kcore", "proc/keys", "proc/latency_stats", "proc/timer_list",
    "proc/timer_stats", "proc/sched_debug", "proc/scsi",
    "sys/firmware", "sys/fs/selinux", "sys/dev/block", "sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "proc/asound", "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};
#define N_MASKED (int)(sizeof masked_paths / sizeof masked_paths[0])
#define N_READONLY (int)(sizeof readonly_paths / sizeof readonly_paths[0])

const char *rs_masked_path(int index)
{
    if (index >= 0 && index < N_MASKED)
        return masked_paths[index];
    if (index >= N_MASKED && index < N_MASKED + N_READONLY)
        return readonly_paths[index - N_MASKED];
    return NULL;
}

static int is_fs(int rootfd, const char *rel, long magic)
{
    int fd = open_in_root(rootfd, rel, O_PATH | O_DIRECTORY);
    if (fd < 0)
        return 0;
    struct statfs sf;
    int r = fstatfs(fd, &sf) == 0 && (long)sf.f_type == magic;
    close(fd);
    return r;
}

/* 0 on success or when the path does not exist (nothing to hide), else -1 with errno. */
static int mask_one(int rootfd, const char *rel, const char *devnull, int readonly)
{
    int target = open_in_root(rootfd, rel, O_PATH | O_NOFOLLOW);
    if (target < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    int m = -1;
    if (fstat(target, &st) < 0) {
        m = -1;
    } else if (readonly) {
        m = (int)syscall(SYS_open_tree, target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (m >= 0 && set_attrs(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, AT_RECURSIVE) < 0) {
            close(m);
            m = -1;
        }
    } else if (S_ISDIR(st.st_mode)) {
        char opts[] = "size=4k,nr_inodes=1,mode=0555";
        m = make_fs("tmpfs", opts, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    } else {
        m = clone_with_attrs(devnull, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    }
    int r = m >= 0 ? attach(m, target) : -1;
    int e = errno;
    if (m >= 0)
        close(m);
    close(target);
    errno = e;
    return r;
}

void rs_mask_paths(unsigned what, const char *root, const char *devnull, int report_fd)
{
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        rs_child_fail(report_fd, RS_STAGE_MASK, errno, -1);
    int proc = (what & RS_MASK_PROC) && is_fs(rootfd, "proc", PROC_SUPER_MAGIC);
    int sys = (what & RS_MASK_SYS) && is_fs(rootfd, "sys", SYSFS_MAGIC);
    for (int i = 0; i < N_MASKED + N_READONLY; i++) {
        const char *rel = rs_masked_path(i);
        if (!(rel[0] == 'p' ? proc : sys))
            continue;
        if (mask_one(rootfd, rel, devnull, i >= N_MASKED) < 0)
            rs_child_fail(report_fd, RS_STAGE_MASK, errno, i);
    }
    close(rootfd);
}
