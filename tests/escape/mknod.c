/* argv[1]: a directory we may write. A device node would reach the host's device. */
#include "escape.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>
int main(int argc, char **argv)
{
    char p[512];
    snprintf(p, sizeof p, "%s/mem", argc > 1 ? argv[1] : "/tmp");
    return expect_errno("mknod", "EPERM", mknod(p, S_IFCHR | 0666, makedev(1, 1)));
}
