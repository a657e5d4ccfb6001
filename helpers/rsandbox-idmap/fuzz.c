/* libFuzzer target for rsandbox-idmap's two parsers (scripts/fuzz-idmap runs it, bounded, in CI).
 * The input's first line is a number token for parse_u32; the rest is /etc/subuid text. */
#define RS_IDMAP_NO_MAIN
#include "idmap.c"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char token[64];
    size_t i = 0;
    while (i < size && i < sizeof token - 1 && data[i] != '\n') {
        token[i] = (char)data[i];
        i++;
    }
    token[i] = '\0';
    uint32_t v;
    if (strlen(token) == i && parse_u32(token, &v) == 0) {
        /* Accepted numbers are canonical decimal: printing them back gives the same text. */
        char back[16];
        snprintf(back, sizeof back, "%u", v);
        assert(strcmp(back, token) == 0);
    }
    if (i >= size)
        return 0;
    FILE *f = fmemopen((void *)(data + i + 1), size - i - 1, "r");
    if (!f)
        return 0;
    static struct range entries[MAX_ENTRIES];
    size_t n = parse_entries(f, "user", 1000, entries);
    fclose(f);
    assert(n <= MAX_ENTRIES);
    for (size_t k = 0; k < n; k++) {
        /* Every entry kept is a usable range: never empty, never 0, never past the last id. */
        assert(entries[k].count >= 1 && entries[k].start >= 1);
        assert(entries[k].start + entries[k].count <= ID_LIMIT);
        /* An entry covers itself, and nothing just past the union's end. */
        struct range r = entries[k];
        assert(covered(&r, entries, n));
    }
    return 0;
}
