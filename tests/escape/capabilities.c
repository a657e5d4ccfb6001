/* Root inside (--uid 0) still holds no capability: effective and bounding sets are empty. */
#include "escape.h"
int main(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256], eff[32] = "?", bnd[32] = "?", got[96];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "CapEff:\t%31s", eff);
        sscanf(line, "CapBnd:\t%31s", bnd);
    }
    snprintf(got, sizeof got, "uid %u eff %s bnd %s", (unsigned)geteuid(), eff, bnd);
    return expect_text("capabilities", "uid 0 eff 0000000000000000 bnd 0000000000000000", got);
}
