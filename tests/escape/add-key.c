#include "escape.h"
int main(void)
{
    return expect_errno("add-key", "EPERM", syscall(SYS_add_key, "user", "rsandbox", "x", 1, -3 /* session */));
}
