/* /proc/sys is read-only. ip_forward of the sandbox's own network namespace belongs to its root
 * (run with --uid 0 --unshare-net --cap-add NET_ADMIN): without the read-only bind this open
 * would succeed. */
#include "escape.h"
int main(void)
{
    return expect_errno("proc-sys-write", "EROFS", open("/proc/sys/net/ipv4/ip_forward", O_WRONLY));
}
