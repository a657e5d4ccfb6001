/* The command runs in a session of its own: the caller's terminal is not its controlling tty. */
#include "escape.h"
int main(void)
{
    return expect_errno("controlling-tty", "ENXIO", open("/dev/tty", O_RDWR));
}
