/* "shocker": open a file by handle, bypassing the mount tree (inode 2 = a filesystem's root). */
#include "escape.h"
struct handle {
    unsigned int bytes;
    int type;
    unsigned char f[8];
};
int main(void)
{
    struct handle h = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };
    int root = open("/", O_RDONLY | O_DIRECTORY);
    return expect_errno("shocker", "EPERM", syscall(SYS_open_by_handle_at, root, &h, O_RDONLY));
}
