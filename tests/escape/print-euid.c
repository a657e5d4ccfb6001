/* The setuid target of setuid-nnp. */
#include "escape.h"
int main(void)
{
    printf("euid %u\n", (unsigned)geteuid());
    return 0;
}
