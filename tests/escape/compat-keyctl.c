/* The same keyctl through the 32-bit ABI (int $0x80, i386 number 288): the filter covers it. */
#include "escape.h"
int main(void)
{
#if defined(__x86_64__)
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(288L), "b"(1L /* JOIN_SESSION_KEYRING */), "c"(0L) : "memory");
    if (r < 0) {
        errno = (int)-r;
        r = -1;
    }
    return expect_errno("compat-keyctl", "EPERM", r);
#else
    return expect_text("compat-keyctl", "x86_64", "another architecture");
#endif
}
