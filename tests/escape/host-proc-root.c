/* argv[1]: a host pid (the test's). Its /proc entry does not exist in our pid namespace. */
#include "escape.h"
int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 1)
        return expect_text("host-proc-root", "ENOENT", "no host pid given");
    char p[64];
    snprintf(p, sizeof p, "/proc/%s/root/", argc > 1 ? argv[1] : "0");
    return expect_errno("host-proc-root", "ENOENT", open(p, O_RDONLY | O_DIRECTORY));
}
