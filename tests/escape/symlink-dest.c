/* The sandbox was built with a symlink /link -> argv[1] (a host directory holding "secret") and a
 * bind onto /link. The bind must land inside the new root, and the host directory stay out. */
#include "escape.h"
int main(int argc, char **argv)
{
    char secret[512], marker[512], got[64];
    snprintf(secret, sizeof secret, "%s/secret", argc > 1 ? argv[1] : "");
    snprintf(marker, sizeof marker, "%s/marker", argc > 1 ? argv[1] : "");
    int s = access(secret, F_OK) == 0;
    int m = access(marker, F_OK) == 0;
    snprintf(got, sizeof got, "secret:%s,marker:%s", s ? "visible" : "absent", m ? "inside" : "absent");
    return expect_text("symlink-dest", "secret:absent,marker:inside", got);
}
