/* The libnl-3 / libnl-route-3 headers Netns uses, plus the few helpers Swift cannot write
 * itself: an error callback that keeps the kernel's errno (libnl turns it into its own NLE_*
 * code), and a reader for link events that needs no libnl cache. */
#ifndef RSANDBOX_CNETLINK_SHIM_H
#define RSANDBOX_CNETLINK_SHIM_H

#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <string.h>
#include <sys/socket.h>

/* Stores the kernel's errno of an NLMSG_ERROR in *arg; libnl then returns its own code. */
static inline int rs_nl_keep_errno(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
    (void)who;
    *(int *)arg = -e->error;
    return NL_STOP;
}

/* Makes every kernel error on `sk` land in *slot (which must outlive the socket). */
static inline int rs_nl_capture_errno(struct nl_sock *sk, int *slot)
{
    return nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, rs_nl_keep_errno, slot);
}

/* Subscribes `sk` to link notifications. */
static inline int rs_nl_add_link_group(struct nl_sock *sk)
{
    return nl_socket_add_membership(sk, RTNLGRP_LINK);
}

/* One link event: RTM_NEWLINK or RTM_DELLINK, the interface index and name. */
struct rs_link_event {
    int type;
    int index;
    unsigned flags;
    char name[IFNAMSIZ];
};

/* Reads one datagram of link notifications from `fd` (a NETLINK_ROUTE socket subscribed to
 * RTNLGRP_LINK) into out[0..max). Returns the number of events, or -errno. */
static inline int rs_nl_read_link_events(int fd, struct rs_link_event *out, int max)
{
    char buf[32768] __attribute__((aligned(4)));
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    int count = 0;
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len) && count < max; h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
            continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
            continue;
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        struct rs_link_event *ev = &out[count++];
        memset(ev, 0, sizeof *ev);
        ev->type = h->nlmsg_type;
        ev->index = ifi->ifi_index;
        ev->flags = ifi->ifi_flags;
        int alen = (int)IFLA_PAYLOAD(h);
        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
            if (a->rta_type == IFLA_IFNAME) {
                size_t l = RTA_PAYLOAD(a);
                if (l > IFNAMSIZ - 1)
                    l = IFNAMSIZ - 1;
                memcpy(ev->name, RTA_DATA(a), l);
                ev->name[l] = '\0';
            }
        }
    }
    return count;
}

#endif
