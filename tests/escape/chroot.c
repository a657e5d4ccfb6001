/* The classic chroot escape starts with chroot(2), which needs CAP_SYS_CHROOT. */
#include "escape.h"
int main(void)
{
    return expect_errno("chroot", "EPERM", chroot("/tmp"));
}
