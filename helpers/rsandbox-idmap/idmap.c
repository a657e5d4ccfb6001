/* rsandbox-idmap: writes a uid_map or gid_map for a process's new user namespace with the
 * subordinate ranges its caller owns (/etc/subuid, /etc/subgid), newuidmap-style.
 *
 *   rsandbox-idmap uid|gid PID INSIDE OUTSIDE COUNT [INSIDE OUTSIDE COUNT]...
 *
 * Installed with file capabilities (cap_setuid,cap_setgid+ep), never setuid. Every check below
 * is one of shared/HELPER-SECURITY.md's (numbers in brackets) and has a test that reaches it
 * (Tests/RSandboxTests/IDMapHelperTests.swift). Exit status: 0 written, 1 refused (one line on
 * stderr says why), 2 usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINES 340            /* the kernel's limit on map lines [5] */
#define MAX_ENTRIES 1024         /* subordinate entries kept for one caller */
#define ID_LIMIT 4294967295ULL   /* (uid_t)-1 is never a valid id [5] */

static const char *kind_name = "uid";

static _Noreturn void refuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rsandbox-idmap: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Strict decimal [4]: digits only, no sign, no whitespace, no leading zeros, no overflow. */
static int parse_u32(const char *s, uint32_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

struct range {
    uint64_t start, count;
};

static int overlaps(const struct range *a, const struct range *b)
{
    return a->start < b->start + b->count && b->start < a->start + a->count;
}

/* The caller's entries in subordinate-id text [7][8]: malformed lines, count 0, start 0 and
 * ranges past 2^32 are skipped. An entry matches by user name or by decimal uid. */
static size_t parse_entries(FILE *f, const char *user, uid_t uid, struct range *out)
{
    char uidstr[16];
    snprintf(uidstr, sizeof uidstr, "%u", (unsigned)uid);
    size_t n = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') {
            line[--len] = '\0';
        } else if (!feof(f)) {
            /* Longer than any real entry: skip all of it, never parse its tail as a line. */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || strchr(c2 + 1, ':'))
            continue;
        *c1 = *c2 = '\0';
        uint32_t start, count;
        if (parse_u32(c1 + 1, &start) < 0 || parse_u32(c2 + 1, &count) < 0)
            continue;
        if (count == 0 || start == 0 || (uint64_t)start + count > ID_LIMIT)
            continue;
        if (strcmp(line, user) != 0 && strcmp(line, uidstr) != 0)
            continue;
        if (n == MAX_ENTRIES)
            break;
        out[n].start = start;
        out[n].count = count;
        n++;
    }
    return n;
}

/* The file itself [7]: root-owned, not writable by group or others, a regular file. */
static size_t read_entries(const char *path, const char *user, uid_t uid, struct range *out)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        refuse("cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || st.st_uid != 0 || (st.st_mode & 022) != 0 || !S_ISREG(st.st_mode))
        refuse("%s must be a regular file owned by root and writable only by it", path);
    size_t n = parse_entries(f, user, uid, out);
    fclose(f);
    return n;
}

/* Whether [r] lies inside one entry, or across entries that touch [6]. */
static int covered(const struct range *r, const struct range *entries, size_t n)
{
    uint64_t pos = r->start, end = r->start + r->count;
    for (int progress = 1; progress && pos < end;) {
        progress = 0;
        for (size_t i = 0; i < n; i++) {
            if (entries[i].start <= pos && pos < entries[i].start + entries[i].count) {
                pos = entries[i].start + entries[i].count;
                progress = 1;
            }
        }
    }
    return pos >= end;
}

/* Keeps only `cap` in the effective and permitted sets [10]. */
static void keep_only(int cap)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    d[cap / 32].effective = d[cap / 32].permitted = 1u << (cap % 32);
    if (syscall(SYS_capset, &h, d) < 0)
        refuse("cannot hold %s: %s (is the helper installed with file capabilities? see docs/idmap.md)",
               cap == CAP_SETUID ? "cap_setuid" : "cap_setgid", strerror(errno));
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void write_file(int dirfd, const char *name, const char *text, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        refuse("cannot open %s of the target: %s", name, strerror(errno));
    ssize_t w = write(fd, text, len);
    if (w != (ssize_t)len)
        refuse("cannot write %s: %s", name, w < 0 ? strerror(errno) : "short write");
    close(fd);
}

/* Opens what is missing of fds 0-2 on /dev/null, so nothing we open lands on them [10]. */
static void ensure_stdio(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n != fd)
            _exit(1);
    }
}

#ifndef RS_IDMAP_NO_MAIN
int main(int argc, char **argv)
{
    ensure_stdio();
    clearenv(); /* [10] no locale, no environment read from here on */

    if (argc < 6 || (argc - 3) % 3 != 0 || (strcmp(argv[1], "uid") != 0 && strcmp(argv[1], "gid") != 0)) {
        fputs("usage: rsandbox-idmap uid|gid PID INSIDE OUTSIDE COUNT [INSIDE OUTSIDE COUNT]...\n", stderr);
        return 2;
    }
    int is_uid = strcmp(argv[1], "uid") == 0;
    kind_name = argv[1];
    uint32_t pid;
    if (parse_u32(argv[2], &pid) < 0 || pid == 0 || pid > INT32_MAX)
        refuse("pid \"%s\" is not a process id", argv[2]);

    /* [4][5] parse and check the ranges */
    size_t nlines = (size_t)(argc - 3) / 3;
    if (nlines > MAX_LINES)
        refuse("%zu map lines; the kernel takes at most %d", nlines, MAX_LINES);
    static struct range inside[MAX_LINES], outside[MAX_LINES];
    for (size_t i = 0; i < nlines; i++) {
        uint32_t in, out, count;
        const char **a = (const char **)&argv[3 + 3 * i];
        if (parse_u32(a[0], &in) < 0 || parse_u32(a[1], &out) < 0 || parse_u32(a[2], &count) < 0)
            refuse("line %zu (%s %s %s): ids and counts are decimal numbers below 2^32", i + 1, a[0], a[1], a[2]);
        if (count == 0)
            refuse("line %zu: count must be at least 1", i + 1);
        if ((uint64_t)in + count > ID_LIMIT || (uint64_t)out + count > ID_LIMIT)
            refuse("line %zu: the range passes the largest id, 4294967294", i + 1);
        inside[i] = (struct range){ in, count };
        outside[i] = (struct range){ out, count };
        for (size_t j = 0; j < i; j++) {
            if (overlaps(&inside[i], &inside[j]))
                refuse("line %zu: inside ids overlap line %zu", i + 1, j + 1);
            if (overlaps(&outside[i], &outside[j]))
                refuse("line %zu: outside ids overlap line %zu", i + 1, j + 1);
        }
    }

    /* [8] who is asking: the real ids, never the login name or the environment */
    uid_t ruid = getuid();
    gid_t rgid = getgid();
    struct passwd *pw = getpwuid(ruid);
    const char *user = pw ? pw->pw_name : "";
    uint32_t own = is_uid ? ruid : rgid;

    /* [6][7] every outside range is the caller's own id, or inside its subordinate entries */
    static struct range entries[MAX_ENTRIES];
    size_t nentries = read_entries(is_uid ? "/etc/subuid" : "/etc/subgid", user, ruid, entries);
    int from_file = 0;
    for (size_t i = 0; i < nlines; i++) {
        if (outside[i].start == 0)
            refuse("line %zu: outside %s 0 (host root) is never mapped", i + 1, kind_name);
        if (outside[i].start == own && outside[i].count == 1)
            continue;
        if (!covered(&outside[i], entries, nentries))
            refuse("line %zu: outside %ss %llu-%llu are not yours (see /etc/sub%s)", i + 1, kind_name,
                   (unsigned long long)outside[i].start,
                   (unsigned long long)(outside[i].start + outside[i].count - 1), kind_name);
        from_file = 1;
    }

    /* [1][3] the target, pinned by a directory fd on procfs; everything else relative to it */
    char path[32];
    snprintf(path, sizeof path, "/proc/%u", pid);
    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        refuse("process %u: %s", pid, strerror(errno));
    struct statfs sfs;
    if (fstatfs(dirfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
        refuse("%s is not on procfs", path);
    /* [2] the caller's own, dumpable process (a non-dumpable one's directory is root's) */
    struct stat st;
    if (fstat(dirfd, &st) < 0 || st.st_uid != ruid || st.st_gid != rgid)
        refuse("process %u is not yours", pid);
    int target_ns = openat(dirfd, "ns/user", O_RDONLY | O_CLOEXEC);
    if (target_ns < 0)
        refuse("process %u: cannot open its user namespace: %s", pid, strerror(errno));
    int own_ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    if (own_ns < 0)
        refuse("cannot open our own user namespace: %s", strerror(errno));
    if (same_file(target_ns, own_ns))
        refuse("process %u is in your own user namespace, not a new one", pid);
    uid_t owner;
    if (ioctl(target_ns, NS_GET_OWNER_UID, &owner) < 0 || owner != ruid)
        refuse("process %u: its user namespace is not owned by you", pid);
    int parent_ns = ioctl(target_ns, NS_GET_PARENT);
    if (parent_ns < 0 || !same_file(parent_ns, own_ns))
        refuse("process %u: its user namespace is not a child of yours", pid);

    /* [9] own gid only: setgroups must be denied first, or setgroups() could drop a group */
    if (!is_uid && !from_file)
        write_file(dirfd, "setgroups", "deny", 4);

    char text[4096];
    size_t len = 0;
    for (size_t i = 0; i < nlines; i++) {
        int w = snprintf(text + len, sizeof text - len, "%llu %llu %llu\n",
                         (unsigned long long)inside[i].start, (unsigned long long)outside[i].start,
                         (unsigned long long)inside[i].count);
        if (w < 0 || (size_t)w >= sizeof text - len)
            refuse("the map does not fit in one page");
        len += (size_t)w;
    }
    keep_only(is_uid ? CAP_SETUID : CAP_SETGID);
    write_file(dirfd, is_uid ? "uid_map" : "gid_map", text, len);
    return 0;
}
#endif
