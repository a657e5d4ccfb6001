/* The x32 ABI (system call numbers with bit 30 set on x86_64) is not one of the filter's
 * architectures: a call through it must kill the caller (SIGSYS), not slip past the deny-list. */
#include "escape.h"
#include <signal.h>
#include <sys/wait.h>
int main(void)
{
#if defined(__x86_64__)
    pid_t pid = fork();
    if (pid == 0)
        _exit(syscall(0x40000000L | SYS_getpid) < 0 ? 2 : 3);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return expect_text("x32-abi", "killed by SIGSYS", "no child");
    const char *got = WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ? "killed by SIGSYS"
                      : WIFEXITED(status) && WEXITSTATUS(status) == 2 ? "an error (the call was not filtered)"
                      : "success (the call was not filtered)";
    return expect_text("x32-abi", "killed by SIGSYS", got);
#else
    return expect_text("x32-abi", "killed by SIGSYS", "killed by SIGSYS");
#endif
}
