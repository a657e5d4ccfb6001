/* The kernel's own cost of N read-only binds, with nothing of ours around it: a child enters a
 * new user + mount namespace, mounts a tmpfs on /mnt and makes N recursive read-only binds of
 * /usr on fresh directories in it (open_tree_attr clone + mkdirat + move_mount: the same calls
 * rsandbox's child makes), then exits; the parent waits, so the namespace's teardown is counted.
 * bench/mounts.sh runs it in the same hyperfine run as rsandbox to show what part of a bind's
 * cost is the kernel's.  Usage: mount-floor N (as an unprivileged user). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int child(int count, uid_t uid, gid_t gid) {
    char line[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) { perror("unshare"); return 1; }
    snprintf(line, sizeof line, "0 %u 1", uid);
    if (write_file("/proc/self/setgroups", "deny") || write_file("/proc/self/uid_map", line)) {
        perror("uid_map"); return 1;
    }
    snprintf(line, sizeof line, "0 %u 1", gid);
    if (write_file("/proc/self/gid_map", line)) { perror("gid_map"); return 1; }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) { perror("private"); return 1; }
    if (mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, NULL) != 0) { perror("tmpfs"); return 1; }
    int dir = open("/mnt", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) { perror("/mnt"); return 1; }
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
    for (int i = 0; i < count; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        int tree = (int)syscall(SYS_open_tree_attr, AT_FDCWD, "/usr",
                                OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC, &attr, sizeof attr);
        if (tree < 0) { perror("open_tree_attr"); return 1; }
        if (mkdirat(dir, name, 0755) != 0) { perror("mkdirat"); return 1; }
        if (syscall(SYS_move_mount, tree, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
            perror("move_mount"); return 1;
        }
        close(tree);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2 || atoi(argv[1]) < 1) { fprintf(stderr, "usage: mount-floor N\n"); return 2; }
    uid_t uid = getuid();
    gid_t gid = getgid();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) _exit(child(atoi(argv[1]), uid, gid));
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
