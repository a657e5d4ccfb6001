/* clone3's flags live in memory a filter cannot read: ENOSYS (libc falls back to clone). */
#include "escape.h"
#include <linux/sched.h>
#include <sched.h>
int main(void)
{
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_NEWUSER;
    a.exit_signal = 17;
    long r = syscall(SYS_clone3, &a, sizeof a);
    if (r == 0)
        _exit(0);
    return expect_errno("clone3-userns", "ENOSYS", r);
}
