/* argv[1]: the host pid of a process of the same user outside. */
#include "escape.h"
#include <signal.h>
int main(int argc, char **argv)
{
    return expect_errno("kill-host", "ESRCH", kill(atoi(argc > 1 ? argv[1] : "0"), SIGKILL));
}
