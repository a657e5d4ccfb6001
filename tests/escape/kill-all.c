/* kill(-1) reaches every process we may signal: in our pid namespace there is none but pid 1. */
#include "escape.h"
#include <signal.h>
int main(void)
{
    return expect_errno("kill-all", "ESRCH", kill(-1, SIGKILL));
}
