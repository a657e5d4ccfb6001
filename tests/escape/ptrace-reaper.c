/* Attach to pid 1, the only process in the sandbox with a capability left. */
#include "escape.h"
#include <sys/ptrace.h>
int main(void)
{
    return expect_errno("ptrace-reaper", "EPERM", ptrace(PTRACE_ATTACH, 1, 0, 0));
}
