/* argv[1]: the name of an abstract unix socket a host process listens on; argv[2]: the outcome
 * expected (ECONNREFUSED in a network namespace of our own; success when the net is shared). */
#include "escape.h"
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "none";
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n > sizeof a.sun_path - 1)
        n = sizeof a.sun_path - 1;
    memcpy(a.sun_path + 1, name, n);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    return expect_errno("abstract-socket", argc > 2 ? argv[2] : "ECONNREFUSED",
                        connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
}
