/* Make the read-only bind of / writable again. */
#include "escape.h"
#include <sys/mount.h>
int main(void)
{
    return expect_errno("remount-rw", "EPERM", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
}
