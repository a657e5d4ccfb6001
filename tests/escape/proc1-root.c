/* pid 1 (the reaper) holds more capabilities than we do and is not dumpable: its root, memory
 * and fds are closed to us. */
#include "escape.h"
int main(void)
{
    return expect_errno("proc1-root", "EACCES", open("/proc/1/root/", O_RDONLY | O_DIRECTORY));
}
