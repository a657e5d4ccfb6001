/* argv[1]: the supervisor's host pid (the rsandbox process running this sandbox). */
#include "escape.h"
#include <sys/ptrace.h>
int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 1)
        return expect_text("ptrace-supervisor", "ESRCH", "no host pid given");
    return expect_errno("ptrace-supervisor", "ESRCH", ptrace(PTRACE_ATTACH, atoi(argc > 1 ? argv[1] : "0"), 0, 0));
}
