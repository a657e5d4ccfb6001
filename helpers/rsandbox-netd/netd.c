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

#include <arpa/inet.h>
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
#include <nftables/libnftables.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int dying;    /* given back: its link is being deleted; keeps its address and name until gone */
    int filtered; /* its port's nftables chain is installed [9] */
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
static struct nft_ctx *nft;

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
            fprintf(f, "%u %s %d %s %u%s\n", (unsigned)l->uid, cfg.bridges[l->bridge].name, l->ifindex, l->ifname, l->addr,
                    l->dying ? " dying" : "");
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
    char line[256], bridge[32], ifname[32], flag[8];
    unsigned uid, addr;
    int ifindex, n = 0;
    while (n < MAX_LEASES && fgets(line, sizeof line, f)) {
        int k = sscanf(line, "%u %31s %d %31s %u %7s", &uid, bridge, &ifindex, ifname, &addr, flag);
        if (k != 5 && !(k == 6 && strcmp(flag, "dying") == 0))
            continue;
        struct lease *l = &leases[n];
        l->dying = k == 6;
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

static void port_filter_del(struct lease *l);

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
        if (alive && l->bridge >= 0 && !l->dying)
            continue;
        if (l->ifindex == 0 || l->bridge < 0 || (l->dying && alive))
            delete_link(alive ? l->ifindex : 0, l->ifname);
        logmsg("dropped stale lease %s of uid %u", l->ifname, (unsigned)l->uid);
        port_filter_del(l); /* (when called again after lost link events) */
        l->used = 0;
    }
    save_state();
}

/* ---- the port filters [9] ----
 * One nftables table (bridge family) holds a chain per sandbox port, reached through a verdict
 * map keyed by the port's name. A frame entering the bridge from a port named rsb* that has no
 * chain (yet, or any more) is dropped: a port is never open. Every value in the rules is netd's
 * own (its names, its addresses), never the client's. */

static void ip4(uint32_t a, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* A lease's MAC: `first` (0xfe the host end, 0x02 eth0) then its address and bridge. */
static void lease_mac(const struct lease *l, uint8_t first, uint8_t mac[6])
{
    uint8_t m[6] = { first, (uint8_t)(l->addr >> 24), (uint8_t)(l->addr >> 16), (uint8_t)(l->addr >> 8), (uint8_t)l->addr,
                     (uint8_t)l->bridge };
    memcpy(mac, m, 6);
}

/* Its IPv6 address: the bridge's prefix with the IPv4 host part in the low bits; and the EUI-64
 * link-local address the kernel derives from eth0's MAC. */
static void lease_ip6(const struct lease *l, struct in6_addr *global, struct in6_addr *local)
{
    const struct bridge *b = &cfg.bridges[l->bridge];
    uint32_t host = l->addr - b->network;
    memcpy(global->s6_addr, b->network6, 16);
    for (int i = 0; i < 4; i++)
        global->s6_addr[15 - i] |= (uint8_t)(host >> (8 * i));
    uint8_t m[6];
    lease_mac(l, 0x02, m);
    uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5] };
    memcpy(local->s6_addr, ll, 16);
}

/* The bridge's own IPv6 address, every lease's gateway: its prefix's ::1. */
static void gateway6(const struct bridge *b, struct in6_addr *gw)
{
    memcpy(gw->s6_addr, b->network6, 16);
    gw->s6_addr[15] |= 1;
}

static int nft_run(const char *cmd)
{
    if (nft_run_cmd_from_buffer(nft, cmd) == 0)
        return 0;
    const char *e = nft_ctx_get_error_buffer(nft);
    logmsg("nftables refused: %.*s", (int)strcspn(e ? e : "", "\n"), e ? e : "");
    return -1;
}

/* The commands that give a lease's port its chain; returns the length written. */
static int port_rules(const struct lease *l, char *out, size_t n)
{
    uint8_t m[6];
    lease_mac(l, 0x02, m);
    char mac[18], ip[16];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    ip4(l->addr, ip, sizeof ip);
    const char *c = l->ifname, *t = "add rule bridge rsandbox";
    int len = snprintf(out, n,
                       "add chain bridge rsandbox %s\n"
                       "%s %s ether saddr != %s drop\n"              /* another MAC */
                       "%s %s ether daddr 01:80:c2:00:00:00 drop\n" /* STP */
                       "%s %s arp saddr ether %s arp saddr ip %s accept\n"
                       "%s %s ip saddr %s udp sport 67 drop\n" /* a DHCP server */
                       "%s %s ip saddr %s accept\n"
                       "%s %s icmpv6 type { nd-router-advert, nd-redirect } drop\n",
                       c, t, c, mac, t, c, t, c, mac, ip, t, c, ip, t, c, ip, t, c);
    if (cfg.bridges[l->bridge].has_v6) {
        struct in6_addr g, ll;
        char gs[INET6_ADDRSTRLEN], lls[INET6_ADDRSTRLEN];
        lease_ip6(l, &g, &ll);
        inet_ntop(AF_INET6, &g, gs, sizeof gs);
        inet_ntop(AF_INET6, &ll, lls, sizeof lls);
        char gx[33], llx[33]; /* the same as 128-bit numbers, for the raw match on a target */
        for (int i = 0; i < 16; i++) {
            snprintf(gx + 2 * i, 3, "%02x", g.s6_addr[i]);
            snprintf(llx + 2 * i, 3, "%02x", ll.s6_addr[i]);
        }
        len += snprintf(out + len, n - (size_t)len,
                        "%s %s udp sport 547 drop\n" /* a DHCPv6 server */
                        /* a neighbour advertisement for an address that is not its own */
                        "%s %s icmpv6 type nd-neighbor-advert @th,64,128 != { 0x%s, 0x%s } drop\n"
                        "%s %s ip6 saddr { %s, %s } accept\n",
                        t, c, t, c, gx, llx, t, c, gs, lls);
    }
    len += snprintf(out + len, n - (size_t)len, "%s %s drop\nadd element bridge rsandbox ports { \"%s\" : jump %s }\n", t, c, c, c);
    return len;
}

static int port_filter_add(struct lease *l)
{
    char cmd[2048];
    port_rules(l, cmd, sizeof cmd);
    l->filtered = nft_run(cmd) == 0;
    return l->filtered ? 0 : -1;
}

static void port_filter_del(struct lease *l)
{
    if (!l->filtered)
        return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "delete element bridge rsandbox ports { \"%s\" }\ndelete chain bridge rsandbox %s\n", l->ifname,
             l->ifname);
    nft_run(cmd);
    l->filtered = 0;
}

/* At start: the table anew (one transaction: no moment without it), a chain for each live lease. */
static void port_filters_reset(void)
{
    size_t n = 4096 + (size_t)MAX_LEASES * 2048;
    char *cmd = malloc(n);
    if (!cmd)
        die("out of memory");
    int len = snprintf(cmd, n,
                       "add table bridge rsandbox\n"
                       "delete table bridge rsandbox\n"
                       "table bridge rsandbox {\n"
                       "  map ports { type ifname : verdict; }\n"
                       "  chain prerouting {\n"
                       "    type filter hook prerouting priority -300; policy accept;\n"
                       "    iifname vmap @ports\n"
                       "    iifname \"rsb*\" drop\n"
                       "  }\n"
                       "}\n");
    for (int i = 0; i < MAX_LEASES; i++) {
        struct lease *l = &leases[i];
        l->filtered = l->used && !l->dying; /* (netd dies below if the table is refused) */
        if (l->filtered)
            len += port_rules(l, cmd + len, n - (size_t)len);
    }
    if (nft_run(cmd) < 0)
        die("cannot install the port filters (nftables)");
    free(cmd);
}

static void release(struct lease *l, const char *why)
{
    logmsg("released %s of uid %u (%s)", l->ifname, (unsigned)l->uid, why);
    port_filter_del(l);
    l->used = 0;
    save_state();
}

/* The owner gave it back: its port closes now, its link is deleted by a child (deleting a link
 * waits for RCU grace periods, 15-30 ms here, which would stall every other client), and the
 * lease keeps its address and name until the link-gone event frees it. */
static void retire(struct lease *l)
{
    logmsg("%s of uid %u given back", l->ifname, (unsigned)l->uid);
    port_filter_del(l);
    l->dying = 1;
    save_state();
    pid_t pid = fork();
    if (pid == 0) {
        close_range(3, ~0U, 0);
        nl = nl_open(&nl_errno);
        if (nl)
            delete_link(l->ifindex, l->ifname);
        _exit(nl ? 0 : 1);
    }
    if (pid < 0)
        delete_link(l->ifindex, l->ifname);
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
        n += leases[i].used && !leases[i].dying && leases[i].uid == uid && leases[i].bridge == bridge;
    return n;
}

/* ---- attaching ---- */

static struct nl_addr *nladdr(uint32_t a, int prefix)
{
    char text[32];
    ip4(a, text, sizeof text);
    if (prefix < 32)
        snprintf(text + strlen(text), sizeof text - strlen(text), "/%d", prefix);
    struct nl_addr *out = NULL;
    return nl_addr_parse(text, AF_INET, &out) == 0 ? out : NULL;
}

static struct nl_addr *nladdr6(const struct in6_addr *a, int prefix)
{
    struct nl_addr *out = nl_addr_build(AF_INET6, a->s6_addr, 16);
    if (out)
        nl_addr_set_prefixlen(out, prefix);
    return out;
}

/* The IPv6 half of configure_inside: the lease's address (no duplicate detection: netd is the
 * only one handing out this prefix, and DAD would leave it unusable for a second) and the
 * default route via the bridge's ::1. Returns 0 or an errno. */
static int configure_inside6(struct nl_sock *s, int *slot, int ifindex, const struct lease *l)
{
    const struct bridge *b = &cfg.bridges[l->bridge];
    struct in6_addr g, ll, gw;
    lease_ip6(l, &g, &ll);
    gateway6(b, &gw);
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = nladdr6(&g, b->prefix6), *via = nladdr6(&gw, 128), *dst = NULL;
    nl_addr_parse("default", AF_INET6, &dst);
    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    if (!a || !local || !via || !dst || !route || !nh)
        return ENOMEM;
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_local(a, local);
    rtnl_addr_set_flags(a, IFA_F_NODAD);
    int r = rtnl_addr_add(s, a, 0);
    if (r < 0)
        return nl_fail(slot, r);
    rtnl_route_set_family(route, AF_INET6);
    rtnl_route_set_dst(route, dst);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, via);
    rtnl_route_add_nexthop(route, nh);
    r = rtnl_route_add(s, route, NLM_F_CREATE | NLM_F_EXCL);
    return r < 0 ? nl_fail(slot, r) : 0;
}

/* In a forked child, inside the sandbox's netns: eth0 gets its address, goes up, and the default
 * route points at the bridge [3]. Returns 0 or an errno. */
static int configure_inside(int nsfd, const struct lease *l)
{
    uint32_t addr = l->addr;
    const struct bridge *b = &cfg.bridges[l->bridge];
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
        _exit(b->has_v6 ? configure_inside6(s, &slot, rtnl_link_get_ifindex(link), l) : 0);
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
    /* [9] the host end's MAC starts 0xfe; eth0's is set too (02:…), the one its port accepts */
    for (int end = 0; end < 2; end++) {
        uint8_t mac[6];
        lease_mac(l, end ? 0x02 : 0xfe, mac);
        struct nl_addr *lladdr = nl_addr_build(AF_LLC, mac, sizeof mac);
        if (lladdr) {
            rtnl_link_set_addr(end ? peer : veth, lladdr);
            nl_addr_put(lladdr);
        }
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
    const char *refusal = NULL; /* or the errno in e */
    int e = 0;
    r = rtnl_link_get_kernel(nl, 0, l->ifname, &host);
    if (r < 0 || !change) {
        e = r < 0 ? nl_fail(&nl_errno, r) : ENOMEM;
    } else {
        l->ifindex = rtnl_link_get_ifindex(host);
        save_state();
        /* [9] its filter before the port comes up (the table drops rsb* ports without one anyway) */
        rtnl_link_set_flags(change, IFF_UP);
        if (port_filter_add(l) < 0)
            refusal = "cannot install the port's filter (see netd's log)";
        else if ((r = rtnl_link_change(nl, host, change, 0)) < 0)
            e = nl_fail(&nl_errno, r);
    }
    if (host)
        rtnl_link_put(host);
    if (change)
        rtnl_link_put(change);
    if (!refusal && !e)
        e = configure_inside(nsfd, l);
    if (refusal || e) {
        delete_link(l->ifindex, l->ifname);
        release(l, "configure failed");
        if (refusal)
            snprintf(reply, rn, "refused %s", refusal);
        else
            snprintf(reply, rn, "refused cannot configure eth0 in your namespace: %s", strerror(e));
        return;
    }
    char a[20], gw[20];
    ip4(addr, a, sizeof a);
    ip4(br->network + 1, gw, sizeof gw);
    int len = snprintf(reply, rn, "ok eth0 %s/%d %s %s", a, br->prefix, gw, l->ifname);
    if (br->has_v6) {
        struct in6_addr g, ll, gw6;
        char gs[INET6_ADDRSTRLEN], gws[INET6_ADDRSTRLEN];
        lease_ip6(l, &g, &ll);
        gateway6(br, &gw6);
        inet_ntop(AF_INET6, &g, gs, sizeof gs);
        inet_ntop(AF_INET6, &gw6, gws, sizeof gws);
        snprintf(reply + len, rn - (size_t)len, " %s/%d %s", gs, br->prefix6, gws);
    }
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
    struct lease *gone = NULL; /* given back: retired after the answer */
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
            if (leases[i].used && !leases[i].dying && leases[i].uid == c->uid && leases[i].ifindex > 0 &&
                strcmp(leases[i].ifname, req.name) == 0)
                l = &leases[i]; /* [4] exact name, the caller's own */
        if (!l) {
            snprintf(reply, sizeof reply, "refused no lease %s of yours", req.name);
        } else {
            gone = l;
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
    if (gone)
        retire(gone);
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
        socket_path = "the socket systemd passed";
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
    /* A POSIX record lock, not flock(): a forked child (configure_inside, retire) does not
     * inherit it, so a netd killed while a child runs can be restarted at once. */
    struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (lockfd < 0 || fcntl(lockfd, F_SETLK, &whole) < 0)
        die("%s: another rsandbox-netd owns this state (%s)", lock, strerror(errno));
    if (!(nl = nl_open(&nl_errno)))
        die("cannot open a netlink socket");
    int events = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl sn = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
    if (events < 0 || bind(events, (struct sockaddr *)&sn, sizeof sn) < 0)
        die("cannot watch link events: %s", strerror(errno));
    if (!(nft = nft_ctx_new(NFT_CTX_DEFAULT)) || nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft))
        die("cannot open nftables");
    load_state();
    reconcile();
    port_filters_reset();
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
        while (waitpid(-1, NULL, WNOHANG) > 0) /* retire()'s children */
            ;
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
