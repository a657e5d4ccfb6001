/* Push a command into the caller's terminal (fd 0 is the caller's tty) for it to run after us. */
#include "escape.h"
#include <sys/ioctl.h>
int main(void)
{
    if (!isatty(0))
        return expect_text("tiocsti", "a tty on fd 0", "none");
    char c = 'x';
    return expect_errno("tiocsti", "EPERM", ioctl(0, TIOCSTI, &c));
}
