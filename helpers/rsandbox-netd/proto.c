/* Strict parsers for rsandbox-netd (see proto.h). [6] and [7] of HELPER-SECURITY.md. */
#include "proto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int valid_ifname(const char *s, size_t n)
{
    if (n < 1 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *parse_request(const uint8_t *b, size_t n, struct request *r)
{
    if (n < 8)
        return "truncated request";
    if (memcmp(b, "RSND", 4) != 0)
        return "not an rsandbox-netd request";
    if (b[4] != NETD_VERSION)
        return "unsupported protocol version (this netd speaks version 1)";
    if (b[5] < OP_ATTACH || b[5] > OP_STATUS)
        return "unknown operation";
    size_t len = b[6];
    if (b[7] != 0)
        return "malformed request header";
    if (n != 8 + len)
        return n < 8 + len ? "truncated request" : "request longer than its header says";
    if (b[5] == OP_STATUS) {
        if (len != 0)
            return "status takes no name";
    } else if (!valid_ifname((const char *)b + 8, len)) {
        return "bad interface name (1-15 characters of A-Z a-z 0-9 _ -)";
    }
    memset(r, 0, sizeof *r);
    r->op = b[5];
    memcpy(r->name, b + 8, len);
    return NULL;
}

/* Strict decimal, no sign or leading zeros, at most `max`. */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* "ADDRESS/P" into copy (n bytes) and *p, min <= P <= max; the address part, or NULL. */
static char *split_prefix(const char *s, char *copy, size_t n, unsigned min, unsigned max, unsigned *p)
{
    if (strlen(s) >= n)
        return NULL;
    strcpy(copy, s);
    char *slash = strchr(copy, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return parse_uint(slash + 1, max, p) == 0 && *p >= min ? copy : NULL;
}

/* a.b.c.d/p with 8 <= p <= 30 and no host bits set. */
static int parse_subnet(const char *s, uint32_t *net, int *prefix)
{
    char copy[32];
    unsigned p, parts[4];
    if (!split_prefix(s, copy, sizeof copy, 8, 30, &p))
        return -1;
    char *cur = copy;
    for (int i = 0; i < 4; i++) {
        char *dot = strchr(cur, '.');
        if ((i < 3) != (dot != NULL))
            return -1;
        if (dot)
            *dot = '\0';
        if (parse_uint(cur, 255, &parts[i]) < 0)
            return -1;
        cur = dot ? dot + 1 : cur;
    }
    uint32_t a = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3];
    uint32_t mask = 0xffffffffu << (32 - p);
    if (a & ~mask)
        return -1;
    *net = a;
    *prefix = (int)p;
    return 0;
}

/* x:y::/p with 64 <= p <= 120 and no host bits set. */
static int parse_subnet6(const char *s, uint8_t net[16], int *prefix)
{
    char copy[64];
    unsigned p;
    if (!split_prefix(s, copy, sizeof copy, 64, 120, &p) || inet_pton(AF_INET6, copy, net) != 1)
        return -1;
    for (unsigned bit = p; bit < 128; bit++)
        if (net[bit / 8] & (0x80 >> (bit % 8)))
            return -1;
    *prefix = (int)p;
    return 0;
}

uint32_t pool_size(const struct bridge *b)
{
    return (1u << (32 - b->prefix)) - 3;
}

static int valid_account(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int parse_config(const char *text, size_t len, struct config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t pos = 0;
    int lineno = 0;
    /* Rules may name bridges declared later: keep their names until the end. */
    static char rule_bridge[MAX_RULES][16];
    while (pos < len) {
        lineno++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        char line[256];
        size_t ll = end - pos;
        if (ll >= sizeof line) {
            snprintf(err, errlen, "line %d: too long", lineno);
            return -1;
        }
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', ll)) {
            snprintf(err, errlen, "line %d: NUL byte", lineno);
            return -1;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *f[5];
        int nf = 0;
        for (char *save = NULL, *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
            if (nf == 5) {
                nf = 6;
                break;
            }
            f[nf++] = tok;
        }
        if (nf == 0)
            continue;
        if (strcmp(f[0], "bridge") == 0) {
            if ((nf != 3 && nf != 4) || !valid_ifname(f[1], strlen(f[1]))) {
                snprintf(err, errlen, "line %d: expected `bridge NAME A.B.C.D/PREFIX [IPV6-PREFIX/LENGTH]`", lineno);
                return -1;
            }
            if (c->nbridges == MAX_BRIDGES) {
                snprintf(err, errlen, "line %d: more than %d bridges", lineno, MAX_BRIDGES);
                return -1;
            }
            struct bridge *b = &c->bridges[c->nbridges];
            for (int i = 0; i < c->nbridges; i++) {
                if (strcmp(c->bridges[i].name, f[1]) == 0) {
                    snprintf(err, errlen, "line %d: bridge %s declared twice", lineno, f[1]);
                    return -1;
                }
            }
            if (parse_subnet(f[2], &b->network, &b->prefix) < 0) {
                snprintf(err, errlen, "line %d: subnet %s is not A.B.C.D/PREFIX (prefix 8-30, no host bits)", lineno, f[2]);
                return -1;
            }
            if (nf == 4) {
                if (parse_subnet6(f[3], b->network6, &b->prefix6) < 0) {
                    snprintf(err, errlen, "line %d: subnet %s is not an IPv6 prefix (length 64-120, no host bits)", lineno, f[3]);
                    return -1;
                }
                /* every v4 host part (up to the broadcast address) must fit the v6 host bits */
                if (128 - b->prefix6 < 32 - b->prefix) {
                    snprintf(err, errlen, "line %d: IPv6 prefix %s has fewer host addresses than %s", lineno, f[3], f[2]);
                    return -1;
                }
                b->has_v6 = 1;
            }
            strcpy(b->name, f[1]);
            c->nbridges++;
            continue;
        }
        unsigned count;
        int group = f[0][0] == '@';
        const char *who = f[0] + group;
        if (nf != 4 || strcmp(f[1], "veth") != 0 || !valid_account(who) || !valid_ifname(f[2], strlen(f[2])) ||
            parse_uint(f[3], 65536, &count) < 0 || count == 0) {
            snprintf(err, errlen, "line %d: expected `USER|@GROUP veth BRIDGE COUNT` (count 1-65536)", lineno);
            return -1;
        }
        if (c->nrules == MAX_RULES) {
            snprintf(err, errlen, "line %d: more than %d rules", lineno, MAX_RULES);
            return -1;
        }
        struct rule *r = &c->rules[c->nrules];
        strcpy(r->who, who);
        r->is_group = group;
        r->count = count;
        strcpy(rule_bridge[c->nrules], f[2]);
        c->nrules++;
    }
    for (int i = 0; i < c->nrules; i++) {
        c->rules[i].bridge = -1;
        for (int j = 0; j < c->nbridges; j++)
            if (strcmp(c->bridges[j].name, rule_bridge[i]) == 0)
                c->rules[i].bridge = j;
        if (c->rules[i].bridge < 0) {
            snprintf(err, errlen, "rule for %s names bridge %s, which no `bridge` line declares", c->rules[i].who, rule_bridge[i]);
            return -1;
        }
    }
    /* [7] what the rules hand out must fit the pool (a group's count counts once). */
    for (int j = 0; j < c->nbridges; j++) {
        unsigned long total = 0;
        for (int i = 0; i < c->nrules; i++)
            if (c->rules[i].bridge == j)
                total += c->rules[i].count;
        if (total > pool_size(&c->bridges[j])) {
            snprintf(err, errlen, "bridge %s: the rules hand out %lu NICs but its subnet has %u addresses",
                     c->bridges[j].name, total, pool_size(&c->bridges[j]));
            return -1;
        }
    }
    return 0;
}
