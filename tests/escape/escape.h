/* One escape attempt per program: it prints "name: expected X, got Y" and exits 0 only when Y is
 * X. Run inside a sandbox by Tests/RSandboxTests/EscapeTests.swift (docs/security.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline const char *outcome(long ret, int err)
{
    if (ret >= 0)
        return "success";
    const char *n = strerrorname_np(err);
    return n ? n : "unknown-errno";
}

/* The call returned `ret` with errno; `want` is the errno name expected ("EPERM"). */
static inline int expect_errno(const char *name, const char *want, long ret)
{
    const char *got = outcome(ret, errno);
    printf("%s: expected %s, got %s\n", name, want, got);
    return strcmp(want, got) == 0 ? 0 : 1;
}

/* An observation (a value read inside) compared with the one expected. */
static inline int expect_text(const char *name, const char *want, const char *got)
{
    printf("%s: expected %s, got %s\n", name, want, got);
    return strcmp(want, got) == 0 ? 0 : 1;
}
