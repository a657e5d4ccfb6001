/* argv[1]: the host pid of a process of the same user outside. */
#include "escape.h"
#include <signal.h>
int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 1)
        return expect_text("kill-host", "ESRCH", "no host pid given");
    return expect_errno("kill-host", "ESRCH", kill(atoi(argc > 1 ? argv[1] : "0"), SIGKILL));
}
