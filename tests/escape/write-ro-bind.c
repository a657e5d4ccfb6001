/* argv[1]: a host file its owner (us) may write; bound read-only it must stay untouched. */
#include "escape.h"
int main(int argc, char **argv)
{
    return expect_errno("write-ro-bind", "EROFS", open(argc > 1 ? argv[1] : "/", O_WRONLY | O_APPEND));
}
