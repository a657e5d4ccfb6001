/* podman's masks: /proc/keys and /proc/timer_list read as /dev/null, /sys/firmware is empty. */
#include "escape.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
static const char *file_state(const char *p)
{
    struct stat st;
    if (stat(p, &st) < 0)
        return "absent";
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3 ? "null" : "visible";
}
int main(void)
{
    int entries = 0;
    DIR *d = opendir("/sys/firmware");
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    char got[128];
    snprintf(got, sizeof got, "keys:%s,timer_list:%s,firmware:%d", file_state("/proc/keys"),
             file_state("/proc/timer_list"), entries);
    return expect_text("proc-masked", "keys:null,timer_list:null,firmware:0", got);
}
