/* argv[1]: a host pid. Joining its mount namespace needs its /proc/<pid>/ns: not there. */
#include "escape.h"
#include <sched.h>
int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 1)
        return expect_text("setns-host", "ENOENT", "no host pid given");
    char p[64];
    snprintf(p, sizeof p, "/proc/%s/ns/mnt", argc > 1 ? argv[1] : "0");
    int fd = open(p, O_RDONLY);
    if (fd >= 0)
        return expect_errno("setns-host", "ENOENT", setns(fd, 0));
    return expect_errno("setns-host", "ENOENT", fd);
}
