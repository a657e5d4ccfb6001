/* argv[1]: the host pid of a process outside (the supervisor's side). */
#include "escape.h"
#include <sys/ptrace.h>
int main(int argc, char **argv)
{
    return expect_errno("ptrace-supervisor", "ESRCH", ptrace(PTRACE_ATTACH, atoi(argc > 1 ? argv[1] : "0"), 0, 0));
}
