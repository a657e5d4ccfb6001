/* TIOCLINUX: console selection paste, the other way to inject input. */
#include "escape.h"
#include <sys/ioctl.h>
int main(void)
{
    char sub = 2;
    return expect_errno("tioclinux", "EPERM", ioctl(0, TIOCLINUX, &sub));
}
