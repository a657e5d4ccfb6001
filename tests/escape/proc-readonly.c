/* podman's read-only paths of /proc: /proc/sysrq-trigger (when the kernel has it), /proc/irq,
 * /proc/bus, /proc/fs. Their modes keep non-root out already; the read-only bind keeps out a
 * root inside that was given capabilities. */
#include "escape.h"
#include <sys/statvfs.h>
int main(void)
{
    const char *paths[] = { "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs" };
    char got[256] = "";
    for (unsigned i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct statvfs v;
        if (statvfs(paths[i], &v) < 0)
            continue;
        if (!(v.f_flag & ST_RDONLY)) {
            snprintf(got, sizeof got, "%s writable", paths[i]);
            return expect_text("proc-readonly", "read-only", got);
        }
        snprintf(got, sizeof got, "read-only");
    }
    return expect_text("proc-readonly", "read-only", got[0] ? got : "none of them exists");
}
