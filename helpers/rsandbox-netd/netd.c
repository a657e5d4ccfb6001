/* rsandbox-netd: gives an unprivileged user's sandbox a NIC on a bridge. A root daemon on a unix
 * SOCK_SEQPACKET socket (or socket-activated by systemd); one request per connection (proto.h).
 *
 *   rsandbox-netd [--config FILE] [--socket PATH] [--state FILE]
 *
 * Every check is one of shared/HELPER-SECURITY.md's "rsandbox-netd" items (numbers in brackets)
 * and has a test that reaches it (Tests/RSandboxTests/NetdTests.swift). Single-threaded: one
 * poll loop; work inside a sandbox's namespace happens in a forked child. */
#define _GNU_SOURCE
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64     /* [10] global connection limit */
#define MAX_PER_UID 4      /* [10] per-uid connection limit */
#define DEADLINE_MS 5000   /* [10] a connection's whole life */
#define MAX_LEASES 1024
#define MAX_PARENTS 32     /* [1] user namespace nesting walked */

struct lease {
    int used;
    uid_t uid;
    int bridge;
    int ifindex; /* 0: being created (reconciled at start if we died meanwhile) [8] */
    char ifname[16];
    uint32_t addr;
};

struct client {
    int fd;
    uid_t uid;
    long deadline;
};

static struct config cfg;
static struct lease leases[MAX_LEASES];
static struct client clients[MAX_CLIENTS];
static const char *config_path = "/etc/rsandbox/netd.conf";
static const char *socket_path = "/run/rsandbox/netd.sock";
static const char *state_path = "/run/rsandbox/netd.state";
static struct stat own_net, own_user;
static struct nl_sock *nl;
static int nl_errno; /* the kernel's errno of the last failed request */

static void vlog(const char *fmt, va_list ap)
{
    fputs("rsandbox-netd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void logmsg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    exit(1);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int keep_errno(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
    (void)who;
    *(int *)arg = -e->error;
    return NL_STOP;
}

static struct nl_sock *nl_open(int *errslot)
{
    struct nl_sock *s = nl_socket_alloc();
    if (!s || nl_connect(s, NETLINK_ROUTE) < 0)
        return NULL;
    nl_socket_modify_err_cb(s, NL_CB_CUSTOM, keep_errno, errslot);
    return s;
}

/* errno of a failed libnl call: the kernel's when it answered. */
static int nl_fail(int *slot, int r)
{
    int e = *slot ? *slot : (r == -NLE_EXIST ? EEXIST : r == -NLE_OBJ_NOTFOUND ? ENODEV : EIO);
    *slot = 0;
    return e;
}

/* ---- leases and their state file [8] ---- */

static void save_state(void)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        die("cannot write %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < MAX_LEASES; i++) {
        struct lease *l = &leases[i];
        if (l->used)
            fprintf(f, "%u %s %d %s %u\n", (unsigned)l->uid, cfg.bridges[l->bridge].name, l->ifindex, l->ifname, l->addr);
    }
    if (fflush(f) != 0 || fsync(fd) != 0 || fclose(f) != 0 || rename(tmp, state_path) != 0)
        die("cannot write %s: %s", state_path, strerror(errno));
}

static void load_state(void)
{
    FILE *f = fopen(state_path, "re");
    if (!f) {
        if (errno == ENOENT)
            return;
        die("cannot read %s: %s", state_path, strerror(errno));
    }
    char bridge[32], ifname[32];
    unsigned uid, addr;
    int ifindex, n = 0;
    while (n < MAX_LEASES && fscanf(f, "%u %31s %d %31s %u", &uid, bridge, &ifindex, ifname, &addr) == 5) {
        struct lease *l = &leases[n];
        l->bridge = -1;
        for (int j = 0; j < cfg.nbridges; j++)
            if (strcmp(cfg.bridges[j].name, bridge) == 0)
                l->bridge = j;
        if (!valid_ifname(ifname, strlen(ifname)))
            continue;
        strcpy(l->ifname, ifname);
        l->uid = uid;
        l->ifindex = ifindex;
        l->addr = addr;
        l->used = 1;
        n++;
    }
    fclose(f);
}

static void delete_link(int ifindex, const char *name)
{
    struct rtnl_link *l = rtnl_link_alloc();
    if (!l)
        return;
    if (ifindex)
        rtnl_link_set_ifindex(l, ifindex);
    rtnl_link_set_name(l, name); /* [4] both must match: never another link of that index */
    if (rtnl_link_delete(nl, l) < 0)
        nl_errno = 0;
    rtnl_link_put(l);
}

/* [8] A lease is kept only when its link still exists under its index and name. Half-made ones
 * (ifindex 0: we died while creating) and those of bridges no longer configured go. */
static void reconcile(void)
{
    for (int i = 0; i < MAX_LEASES; i++) {
        struct lease *l = &leases[i];
        if (!l->used)
            continue;
        char name[IF_NAMESIZE];
        int alive = l->ifindex > 0 && if_indextoname((unsigned)l->ifindex, name) && strcmp(name, l->ifname) == 0;
        if (alive && l->bridge >= 0)
            continue;
        if (l->ifindex == 0 || l->bridge < 0)
            delete_link(alive ? l->ifindex : 0, l->ifname);
        logmsg("dropped stale lease %s of uid %u", l->ifname, (unsigned)l->uid);
        l->used = 0;
    }
    save_state();
}

static void release(struct lease *l, const char *why)
{
    logmsg("released %s of uid %u (%s)", l->ifname, (unsigned)l->uid, why);
    l->used = 0;
    save_state();
}

/* ---- the namespace check [1] ---- */

static int same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* NULL when `fd` is a network namespace of `uid`'s (possibly nested), otherwise the reason. */
static const char *check_netns(int fd, uid_t uid)
{
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC)
        return "the descriptor is not a namespace";
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type != CLONE_NEWNET)
        return "the descriptor is not a network namespace";
    if (fstat(fd, &st) < 0 || same(&st, &own_net))
        return "the descriptor is netd's own network namespace";
    int u = ioctl(fd, NS_GET_USERNS);
    if (u < 0)
        return "cannot find the namespace's owner";
    const char *why = "the host's user namespace owns that network namespace";
    for (int depth = 0; depth < MAX_PARENTS; depth++) {
        if (fstat(u, &st) < 0 || same(&st, &own_user))
            break;
        int p = ioctl(u, NS_GET_PARENT);
        struct stat pst;
        if (p < 0) {
            why = "cannot find the namespace's owner";
            break;
        }
        if (fstat(p, &pst) == 0 && same(&pst, &own_user)) {
            uid_t owner;
            close(p);
            why = ioctl(u, NS_GET_OWNER_UID, &owner) == 0 && owner == uid ? NULL : "that network namespace is not yours";
            close(u);
            return why;
        }
        close(u);
        u = p;
        why = "the namespace is nested too deeply";
    }
    close(u);
    return why;
}

/* ---- quota [7] ---- */

static unsigned quota(uid_t uid, int bridge)
{
    struct passwd *pw = getpwuid(uid);
    if (!pw)
        return 0;
    gid_t groups[256];
    int ng = 256;
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
        ng = 0;
    unsigned best = 0;
    for (int i = 0; i < cfg.nrules; i++) {
        struct rule *r = &cfg.rules[i];
        if (r->bridge != bridge || r->count <= best)
            continue;
        int match = 0;
        if (!r->is_group) {
            match = strcmp(r->who, pw->pw_name) == 0;
        } else {
            struct group *g = getgrnam(r->who);
            for (int k = 0; g && k < ng && !match; k++)
                match = groups[k] == g->gr_gid;
        }
        if (match)
            best = r->count;
    }
    return best;
}

static unsigned in_use(uid_t uid, int bridge)
{
    unsigned n = 0;
    for (int i = 0; i < MAX_LEASES; i++)
        n += leases[i].used && leases[i].uid == uid && leases[i].bridge == bridge;
    return n;
}

/* ---- attaching ---- */

static void ip4(uint32_t a, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static struct nl_addr *nladdr(uint32_t a, int prefix)
{
    char text[32];
    ip4(a, text, sizeof text);
    if (prefix < 32)
        snprintf(text + strlen(text), sizeof text - strlen(text), "/%d", prefix);
    struct nl_addr *out = NULL;
    return nl_addr_parse(text, AF_INET, &out) == 0 ? out : NULL;
}

/* In a forked child, inside the sandbox's netns: eth0 gets its address, goes up, and the default
 * route points at the bridge [3]. Returns 0 or an errno. */
static int configure_inside(int nsfd, uint32_t addr, const struct bridge *b)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        int slot = 0;
        if (setns(nsfd, CLONE_NEWNET) < 0)
            _exit(errno);
        struct nl_sock *s = nl_open(&slot);
        struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
        if (!s || !change)
            _exit(ENOMEM);
        int r = rtnl_link_get_kernel(s, 0, "eth0", &link);
        if (r < 0)
            _exit(nl_fail(&slot, r));
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local = nladdr(addr, b->prefix), *gw = nladdr(b->network + 1, 32), *dst = NULL;
        nl_addr_parse("default", AF_INET, &dst);
        if (!a || !local || !gw || !dst)
            _exit(ENOMEM);
        rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(link));
        rtnl_addr_set_local(a, local);
        if ((r = rtnl_addr_add(s, a, 0)) < 0)
            _exit(nl_fail(&slot, r));
        rtnl_link_set_flags(change, IFF_UP);
        if ((r = rtnl_link_change(s, link, change, 0)) < 0)
            _exit(nl_fail(&slot, r));
        struct rtnl_route *route = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!route || !nh)
            _exit(ENOMEM);
        rtnl_route_set_family(route, AF_INET);
        rtnl_route_set_dst(route, dst);
        rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(link));
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(route, nh);
        if ((r = rtnl_route_add(s, route, NLM_F_CREATE | NLM_F_EXCL)) < 0)
            _exit(nl_fail(&slot, r));
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static void attach(uid_t uid, const char *bridge_name, int nsfd, char *reply, size_t rn)
{
    const char *why = check_netns(nsfd, uid);
    if (why) {
        snprintf(reply, rn, "refused %s", why);
        return;
    }
    int b = -1;
    for (int j = 0; j < cfg.nbridges; j++)
        if (strcmp(cfg.bridges[j].name, bridge_name) == 0)
            b = j;
    if (b < 0) {
        snprintf(reply, rn, "refused unknown bridge %s", bridge_name);
        return;
    }
    struct bridge *br = &cfg.bridges[b];
    unsigned limit = quota(uid, b), used = in_use(uid, b);
    if (limit == 0) {
        snprintf(reply, rn, "refused you may not use bridge %s (see %s)", br->name, config_path);
        return;
    }
    if (used >= limit) {
        snprintf(reply, rn, "refused quota reached: %u of %u NICs on bridge %s in use", used, limit, br->name);
        return;
    }
    /* [6] the bridge must really be one, on this host, now */
    struct rtnl_link *bl = NULL;
    int r = rtnl_link_get_kernel(nl, 0, br->name, &bl);
    nl_errno = 0;
    if (r < 0 || !rtnl_link_get_type(bl) || strcmp(rtnl_link_get_type(bl), "bridge") != 0) {
        if (bl)
            rtnl_link_put(bl);
        snprintf(reply, rn, "refused bridge %s is not set up on this host", br->name);
        return;
    }
    int brindex = rtnl_link_get_ifindex(bl);
    rtnl_link_put(bl);
    /* the lowest free address of the pool */
    uint32_t addr = 0;
    for (uint32_t cand = br->network + 2; cand < br->network + 2 + pool_size(br) && !addr; cand++) {
        int taken = 0;
        for (int i = 0; i < MAX_LEASES && !taken; i++)
            taken = leases[i].used && leases[i].bridge == b && leases[i].addr == cand;
        if (!taken)
            addr = cand;
    }
    struct lease *l = NULL;
    for (int i = 0; i < MAX_LEASES && !l; i++)
        if (!leases[i].used)
            l = &leases[i];
    if (!addr || !l) {
        snprintf(reply, rn, "refused no free address on bridge %s", br->name);
        return;
    }
    *l = (struct lease){ .used = 1, .uid = uid, .bridge = b, .ifindex = 0, .addr = addr };
    snprintf(l->ifname, sizeof l->ifname, "rsb%08x", addr); /* netd names the host end [6] */
    save_state();

    /* [3] one RTM_NEWLINK: host end on the bridge, peer born as eth0 in the verified fd */
    struct rtnl_link *veth = rtnl_link_veth_alloc();
    struct rtnl_link *peer = veth ? rtnl_link_veth_get_peer(veth) : NULL;
    if (!peer) {
        release(l, "out of memory");
        snprintf(reply, rn, "refused out of memory");
        return;
    }
    rtnl_link_set_name(veth, l->ifname);
    rtnl_link_set_master(veth, brindex);
    uint8_t mac[6] = { 0xfe, (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr, (uint8_t)b };
    struct nl_addr *lladdr = nl_addr_build(AF_LLC, mac, sizeof mac); /* [9] host end MAC starts 0xfe */
    if (lladdr) {
        rtnl_link_set_addr(veth, lladdr);
        nl_addr_put(lladdr);
    }
    rtnl_link_set_name(peer, "eth0");
    rtnl_link_set_ns_fd(peer, nsfd);
    r = rtnl_link_add(nl, veth, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(peer);
    rtnl_link_put(veth);
    if (r < 0) {
        int e = nl_fail(&nl_errno, r);
        release(l, "create failed");
        snprintf(reply, rn, "refused cannot create the interface: %s", strerror(e));
        return;
    }
    struct rtnl_link *host = NULL, *change = rtnl_link_alloc();
    r = rtnl_link_get_kernel(nl, 0, l->ifname, &host);
    if (r >= 0 && change) {
        l->ifindex = rtnl_link_get_ifindex(host);
        save_state();
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(nl, host, change, 0);
    }
    if (host)
        rtnl_link_put(host);
    if (change)
        rtnl_link_put(change);
    int e = r < 0 ? nl_fail(&nl_errno, r) : configure_inside(nsfd, addr, br);
    if (e) {
        delete_link(l->ifindex, l->ifname);
        release(l, "configure failed");
        snprintf(reply, rn, "refused cannot configure eth0 in your namespace: %s", strerror(e));
        return;
    }
    char a[20], gw[20];
    ip4(addr, a, sizeof a);
    ip4(br->network + 1, gw, sizeof gw);
    snprintf(reply, rn, "ok eth0 %s/%d %s %s", a, br->prefix, gw, l->ifname);
    logmsg("leased %s (%s) on %s to uid %u", l->ifname, a, br->name, (unsigned)uid);
}

/* ---- requests ---- */

static void serve(struct client *c)
{
    uint8_t buf[NETD_MAX_MESSAGE];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* [5] every fd that arrived is counted and closed on every path */
    int fds[8], nfds = 0, nmsgs = 0;
    if (n >= 0) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            nmsgs++;
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                if (nfds < 8)
                    fds[nfds++] = fd;
                else
                    close(fd);
            }
        }
    }
    char reply[256];
    reply[0] = '\0';
    struct lease gone = { 0 }; /* a released link, deleted after the answer (deleting waits for RCU) */
    struct request req;
    const char *why = NULL;
    if (n == 0 && nfds == 0) {
        goto done; /* the client hung up */
    } else if (n < 0) {
        goto done;
    } else if (msg.msg_flags & MSG_CTRUNC) {
        why = "too many descriptors (send exactly one)";
    } else if (msg.msg_flags & MSG_TRUNC) {
        why = "request too long";
    } else if ((why = parse_request(buf, (size_t)n, &req)) != NULL) {
        /* [6] */
    } else if (!getpwuid(c->uid)) {
        why = "your uid has no passwd entry"; /* [10] */
    } else if (req.op == OP_ATTACH && (nmsgs != 1 || nfds != 1)) {
        why = nfds == 0 ? "attach needs your sandbox's network namespace descriptor" : "send exactly one descriptor";
    } else if (req.op != OP_ATTACH && nfds != 0) {
        why = "this request takes no descriptor";
    }
    if (why) {
        snprintf(reply, sizeof reply, "refused %s", why);
    } else if (req.op == OP_ATTACH) {
        attach(c->uid, req.name, fds[0], reply, sizeof reply);
    } else if (req.op == OP_RELEASE) {
        struct lease *l = NULL;
        for (int i = 0; i < MAX_LEASES && !l; i++)
            if (leases[i].used && leases[i].uid == c->uid && leases[i].ifindex > 0 && strcmp(leases[i].ifname, req.name) == 0)
                l = &leases[i]; /* [4] exact name, the caller's own */
        if (!l) {
            snprintf(reply, sizeof reply, "refused no lease %s of yours", req.name);
        } else {
            gone = *l;
            release(l, "released by its owner");
            snprintf(reply, sizeof reply, "ok released %s", req.name);
        }
    } else {
        int len = snprintf(reply, sizeof reply, "ok");
        for (int j = 0; j < cfg.nbridges && len < (int)sizeof reply - 40; j++) {
            unsigned q = quota(c->uid, j);
            if (q)
                len += snprintf(reply + len, sizeof reply - len, " %s %u/%u", cfg.bridges[j].name, in_use(c->uid, j), q);
        }
    }
done:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (reply[0])
        send(c->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(c->fd);
    c->fd = -1;
    if (gone.used)
        delete_link(gone.ifindex, gone.ifname);
}

/* [8] The host end disappearing (the sandbox's netns died, or someone deleted it) ends the lease. */
static void link_events(int fd)
{
    char buf[32768] __attribute__((aligned(4)));
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == ENOBUFS)
            reconcile(); /* events were lost: look at what is there */
        return;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != RTM_DELLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
            continue;
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        for (int i = 0; i < MAX_LEASES; i++)
            if (leases[i].used && leases[i].ifindex == ifi->ifi_index)
                release(&leases[i], "its interface is gone");
    }
}

static int listen_socket(void)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (fds && pid && atoi(pid) == getpid()) { /* systemd socket activation: fd 3 */
        int type = 0;
        socklen_t tl = sizeof type;
        if (strcmp(fds, "1") != 0 || getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET)
            die("socket activation: expected one SOCK_SEQPACKET socket (ListenSequentialPacket=)");
        fcntl(3, F_SETFD, FD_CLOEXEC);
        return 3;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof sa.sun_path)
        die("socket path too long: %s", socket_path);
    strcpy(sa.sun_path, socket_path);
    if (strcmp(socket_path, "/run/rsandbox/netd.sock") == 0)
        mkdir("/run/rsandbox", 0755);
    struct stat st;
    if (lstat(socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(socket_path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(socket_path, 0666) < 0 || listen(s, 64) < 0)
        die("cannot listen on %s: %s", socket_path, strerror(errno));
    return s;
}

static void load_config(void)
{
    int fd = open(config_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        die("cannot read %s: %s", config_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
        die("%s must be a regular file owned by root and writable only by it", config_path); /* [7] */
    static char text[65536];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0 || n == (ssize_t)sizeof text)
        die("cannot read %s: %s", config_path, n < 0 ? strerror(errno) : "larger than 64 KiB");
    char err[256];
    if (parse_config(text, (size_t)n, &cfg, err, sizeof err) < 0)
        die("%s: %s", config_path, err);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--config") == 0   ? &config_path
                            : strcmp(argv[i], "--socket") == 0 ? &socket_path
                            : strcmp(argv[i], "--state") == 0  ? &state_path
                                                               : NULL;
        if (!slot || i + 1 == argc) {
            fputs("usage: rsandbox-netd [--config FILE] [--socket PATH] [--state FILE]\n", stderr);
            return 2;
        }
        *slot = argv[++i];
    }
    /* Whoever started us may have blocked signals: SIGTERM must stop us. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    load_config();
    if (stat("/proc/self/ns/net", &own_net) < 0 || stat("/proc/self/ns/user", &own_user) < 0)
        die("cannot read our own namespaces: %s", strerror(errno));
    /* [8] one daemon owns the state */
    char lock[4096];
    snprintf(lock, sizeof lock, "%s.lock", state_path);
    int lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0)
        die("%s: another rsandbox-netd owns this state (%s)", lock, strerror(errno));
    if (!(nl = nl_open(&nl_errno)))
        die("cannot open a netlink socket");
    int events = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl sn = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
    if (events < 0 || bind(events, (struct sockaddr *)&sn, sizeof sn) < 0)
        die("cannot watch link events: %s", strerror(errno));
    load_state();
    reconcile();
    int lfd = listen_socket();
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    logmsg("serving %s (%d bridges, %d rules)", socket_path, cfg.nbridges, cfg.nrules);

    for (;;) {
        struct pollfd p[MAX_CLIENTS + 2];
        int idx[MAX_CLIENTS + 2], np = 0;
        long now = now_ms(), wait = -1;
        p[np++] = (struct pollfd){ lfd, POLLIN, 0 };
        p[np++] = (struct pollfd){ events, POLLIN, 0 };
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd < 0)
                continue;
            if (clients[i].deadline <= now) { /* [10] slow clients are dropped */
                send(clients[i].fd, "refused timed out", 17, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(clients[i].fd);
                clients[i].fd = -1;
                continue;
            }
            long left = clients[i].deadline - now;
            wait = wait < 0 || left < wait ? left : wait;
            idx[np] = i;
            p[np++] = (struct pollfd){ clients[i].fd, POLLIN, 0 };
        }
        if (poll(p, (nfds_t)np, (int)wait) < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (p[1].revents)
            link_events(events);
        for (int k = 2; k < np; k++)
            if (p[k].revents)
                serve(&clients[idx[k]]);
        if (p[0].revents) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0)
                continue;
            struct ucred cred; /* [the caller is who the kernel says, never what it writes] */
            socklen_t cl = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
                close(fd);
                continue;
            }
            int mine = 0, slot = -1;
            for (int i = 0; i < MAX_CLIENTS; i++) {
                if (clients[i].fd < 0) {
                    if (slot < 0)
                        slot = i;
                    continue;
                }
                mine += clients[i].uid == cred.uid;
            }
            if (slot < 0 || mine >= MAX_PER_UID) {
                const char *r = slot < 0 ? "refused netd is busy (too many connections)" : "refused too many connections from your uid";
                send(fd, r, strlen(r), MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
                continue;
            }
            clients[slot] = (struct client){ fd, cred.uid, now_ms() + DEADLINE_MS };
        }
    }
}
