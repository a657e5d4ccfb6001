/* Cover a read-only bind (/usr) with a writable tmpfs. */
#include "escape.h"
#include <sys/mount.h>
int main(void)
{
    return expect_errno("mount-over-ro", "EPERM", mount("tmpfs", "/usr", "tmpfs", 0, NULL));
}
