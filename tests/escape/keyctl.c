/* The kernel keyrings are not namespaced: joining a session keyring reaches the host's. */
#include "escape.h"
#include <linux/keyctl.h>
int main(void)
{
    return expect_errno("keyctl", "EPERM", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0));
}
