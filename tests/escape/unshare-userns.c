/* A nested user namespace gives back every capability (in it): refused in run by default. */
#include "escape.h"
#include <sched.h>
int main(void)
{
    return expect_errno("unshare-userns", "EPERM", unshare(CLONE_NEWUSER));
}
