#include "escape.h"
int main(void)
{
    int fd = open("/dev/null", O_RDONLY);
    return expect_errno("module", "EPERM", syscall(SYS_finit_module, fd, "", 0));
}
