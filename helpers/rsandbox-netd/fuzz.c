/* libFuzzer target for rsandbox-netd's request and configuration parsers (scripts/fuzz-netd
 * runs it, bounded, in CI). The first byte picks the parser; the rest is its input. */
#include "proto.c"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        struct request r;
        if (parse_request(data + 1, size - 1, &r) == NULL) {
            /* Accepted: a known operation, and a name that is a valid interface name or empty
             * exactly for status; the whole input was the request. */
            size_t n = strlen(r.name);
            assert(r.op >= OP_ATTACH && r.op <= OP_STATUS);
            assert(size - 1 == 8 + n);
            assert(r.op == OP_STATUS ? n == 0 : valid_ifname(r.name, n));
        }
        return 0;
    }
    static struct config c;
    char err[256];
    if (parse_config((const char *)data + 1, size - 1, &c, err, sizeof err) == 0) {
        assert(c.nbridges <= MAX_BRIDGES && c.nrules <= MAX_RULES);
        for (int j = 0; j < c.nbridges; j++) {
            assert(c.bridges[j].prefix >= 8 && c.bridges[j].prefix <= 30);
            assert(valid_ifname(c.bridges[j].name, strlen(c.bridges[j].name)));
            unsigned long total = 0;
            for (int i = 0; i < c.nrules; i++)
                if (c.rules[i].bridge == j)
                    total += c.rules[i].count;
            assert(total <= pool_size(&c.bridges[j]));
        }
        for (int i = 0; i < c.nrules; i++)
            assert(c.rules[i].bridge >= 0 && c.rules[i].bridge < c.nbridges && c.rules[i].count >= 1);
    }
    return 0;
}
