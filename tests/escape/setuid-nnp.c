/* argv[1]: a setuid program owned by the sandbox's root that prints its euid. With no_new_privs
 * the exec gains nothing: it prints our own uid. */
#include "escape.h"
#include <sys/wait.h>
int main(int argc, char **argv)
{
    if (argc < 2)
        return expect_text("setuid-nnp", "a program", "none");
    int p[2];
    if (pipe(p) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execl(argv[1], argv[1], "--print-euid", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[32] = "", want[32];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    waitpid(pid, NULL, 0);
    snprintf(want, sizeof want, "euid %u", (unsigned)getuid());
    return expect_text("setuid-nnp", want, buf);
}
