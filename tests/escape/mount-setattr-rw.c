/* The new mount API's way to clear MOUNT_ATTR_RDONLY on /. */
#include "escape.h"
#include <linux/mount.h>
int main(void)
{
    struct mount_attr a = { .attr_clr = MOUNT_ATTR_RDONLY };
    return expect_errno("mount-setattr-rw", "EPERM",
                        syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &a, sizeof a));
}
