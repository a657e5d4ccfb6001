#include "escape.h"
#include <time.h>
int main(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return expect_errno("clock", "EPERM", clock_settime(CLOCK_REALTIME, &t));
}
