/* rsandbox-netd's request format and configuration file: pure parsing, no I/O, no libnl, so the
 * fuzz target (fuzz.c) exercises exactly what the daemon runs.
 *
 * A request is one SOCK_SEQPACKET message, exactly 8 + N bytes:
 *   "RSND" | version (1) | operation | N (name length) | 0 | name (N bytes)
 * operation 1 attach: name = bridge, exactly one netns fd by SCM_RIGHTS
 *           2 release: name = the host end of a lease (the caller's own), no fd
 *           3 status: N = 0, no fd; the caller's quota
 * The answer is one line of text: "ok ..." or "refused <reason>". */
#ifndef RSANDBOX_NETD_PROTO_H
#define RSANDBOX_NETD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define NETD_VERSION 1
#define NETD_MAX_MESSAGE 4096
enum { OP_ATTACH = 1, OP_RELEASE = 2, OP_STATUS = 3 };

struct request {
    int op;
    char name[16];
};

/* NULL when `b` is a well-formed request (filled into *r), otherwise the reason. */
const char *parse_request(const uint8_t *b, size_t n, struct request *r);

/* Interface names: 1-15 bytes of [A-Za-z0-9_-]. */
int valid_ifname(const char *s, size_t n);

#define MAX_BRIDGES 16
#define MAX_RULES 256

struct bridge {
    char name[16];
    uint32_t network; /* host order */
    int prefix;       /* 8-30 */
    int has_v6;       /* an IPv6 prefix too: a lease's v6 address is that prefix + its v4 host part */
    uint8_t network6[16];
    int prefix6; /* 64-120 */
};

/* `bridge NAME A.B.C.D/P [IPV6-PREFIX/P]` declares one; `user|@group veth bridge count`,
 * lxc-usernet style, lets someone use it. */
struct rule {
    char who[33];
    int is_group;
    int bridge;
    unsigned count;
};

struct config {
    struct bridge bridges[MAX_BRIDGES];
    int nbridges;
    struct rule rules[MAX_RULES];
    int nrules;
};

/* 0 on success; -1 with a message naming the line in err. */
int parse_config(const char *text, size_t len, struct config *c, char *err, size_t errlen);

/* Addresses a bridge hands out: network+2 .. broadcast-1 (network+1 is the gateway). */
uint32_t pool_size(const struct bridge *b);

#endif
