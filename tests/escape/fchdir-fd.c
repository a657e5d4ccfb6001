/* The caller had fd 7 open on the host's /: no descriptor but stdio may reach the sandbox, so
 * fchdir(7) + chroot(".") cannot climb out of the new root. */
#include "escape.h"
int main(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            char got[32];
            snprintf(got, sizeof got, "fd %d open", fd);
            return expect_text("fchdir-fd", "EBADF", got);
        }
    }
    return expect_errno("fchdir-fd", "EBADF", fchdir(7));
}
