/* Kernel-mode userfaultfd stalls the kernel on our page faults (race amplification). */
#include "escape.h"
int main(void)
{
    return expect_errno("userfaultfd", "EPERM", syscall(SYS_userfaultfd, O_CLOEXEC));
}
