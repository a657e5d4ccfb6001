/* A fresh filesystem through fsopen/fsmount. */
#include "escape.h"
int main(void)
{
    return expect_errno("fsopen", "EPERM", syscall(SYS_fsopen, "tmpfs", 0));
}
