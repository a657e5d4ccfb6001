/* Pseudo-terminal helpers for `rsandbox shell` (the parent side; ioctl is variadic, which
 * Swift cannot call). */
#include "crsandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int rs_pty_open(int *master, int *replica)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -errno;
    if (grantpt(m) < 0 || unlockpt(m) < 0) {
        int e = errno;
        close(m);
        return -e;
    }
    /* By fd, not by path: the replica is the one paired with this master, whatever /dev/pts is. */
    int r = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (r < 0) {
        int e = errno;
        close(m);
        return -e;
    }
    *master = m;
    *replica = r;
    return 0;
}

int rs_winsize_copy(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) < 0 || ioctl(to, TIOCSWINSZ, &ws) < 0)
        return -errno;
    return 0;
}

int rs_winsize_set(int fd, unsigned short rows, unsigned short cols)
{
    struct winsize ws = { rows, cols, 0, 0 };
    return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}
