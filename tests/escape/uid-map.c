/* Rewrite our own uid_map (already written once by the supervisor) to map host root. */
#include "escape.h"
int main(void)
{
    int fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd < 0)
        return expect_errno("uid-map", "EPERM", fd);
    return expect_errno("uid-map", "EPERM", write(fd, "0 0 1\n", 6));
}
