#include "escape.h"
#include <sys/reboot.h>
int main(void)
{
    return expect_errno("reboot", "EPERM", reboot(RB_AUTOBOOT));
}
