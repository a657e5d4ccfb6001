/* Seccomp programs and capability names, computed in the parent (libseccomp and libcap
 * allocate): capability names before clone3, the program while the child sets up (it reaches
 * the child on the sync pipe; docs/design.md). The child only loads it. */
#include "crsandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int rs_cap_from_name(const char *name)
{
    cap_value_t v;
    return cap_from_name(name, &v) == 0 ? (int)v : -1;
}

void rs_cap_name(int n, char *buf, unsigned long len)
{
    char *name = cap_to_name((cap_value_t)n);
    if (len > 0) {
        buf[0] = '\0';
        if (name)
            strncat(buf, name, len - 1);
    }
    cap_free(name);
}

int rs_cap_last(void)
{
    return (int)cap_max_bits() - 1;
}

void *rs_seccomp_new(uint32_t default_action)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    /* We set no_new_privs ourselves, in the child; this context is only exported. */
    if (ctx && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

void rs_seccomp_free(void *ctx)
{
    seccomp_release(ctx);
}

static int add_arch(void *ctx, uint32_t arch)
{
    int r = seccomp_arch_add(ctx, arch);
    return r == -EEXIST ? 0 : r;
}

int rs_seccomp_arch(void *ctx, const char *name)
{
    if (strcmp(name, "native-compat") == 0) {
        switch (seccomp_arch_native()) {
        case SCMP_ARCH_X86_64:
            /* Not x32: without it in the filter libseccomp's program kills any call with the x32
             * bit set, which is stricter than filtering it, and a third architecture costs
             * about 0.2 ms of building per sandbox. */
            return add_arch(ctx, SCMP_ARCH_X86);
        case SCMP_ARCH_AARCH64:
            return add_arch(ctx, SCMP_ARCH_ARM);
        default:
            return 0;
        }
    }
    uint32_t arch = seccomp_arch_resolve_name(name);
    if (arch == 0)
        return -EINVAL;
    return add_arch(ctx, arch);
}

int rs_seccomp_rule(void *ctx, const char *syscall, uint32_t action,
                    const struct rs_seccomp_arg *args, uint32_t nargs)
{
    int nr = seccomp_syscall_resolve_name(syscall);
    if (nr == __NR_SCMP_ERROR)
        return 1;
    if (nargs > 6)
        return -E2BIG;
    struct scmp_arg_cmp cmp[6];
    for (uint32_t i = 0; i < nargs; i++) {
        if (args[i].op < SCMP_CMP_NE || args[i].op > SCMP_CMP_MASKED_EQ || args[i].index > 5)
            return -EINVAL;
        cmp[i].arg = args[i].index;
        cmp[i].op = (enum scmp_compare)args[i].op;
        cmp[i].datum_a = args[i].value;
        cmp[i].datum_b = args[i].value_two;
    }
    return seccomp_rule_add_array(ctx, action, nr, nargs, cmp);
}

int rs_seccomp_known(const char *syscall)
{
    return seccomp_syscall_resolve_name(syscall) != __NR_SCMP_ERROR;
}

uint32_t rs_seccomp_action_errno(uint32_t err)
{
    return SCMP_ACT_ERRNO(err);
}

uint32_t rs_seccomp_action_trace(uint32_t msg)
{
    return SCMP_ACT_TRACE(msg);
}

/* libseccomp 2.5 exports only to a descriptor: a memfd, read back into memory. */
int rs_seccomp_export(void *ctx, void **program, unsigned long *len)
{
    int fd = memfd_create("rsandbox-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = seccomp_export_bpf(ctx, fd);
    struct stat st;
    if (r == 0 && fstat(fd, &st) < 0)
        r = -errno;
    void *buf = NULL;
    if (r == 0) {
        buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
        if (buf == NULL)
            r = -ENOMEM;
    }
    size_t off = 0;
    while (r == 0 && off < (size_t)st.st_size) {
        ssize_t n = pread(fd, (char *)buf + off, (size_t)st.st_size - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r = n < 0 ? -errno : -EIO;
        else
            off += (size_t)n;
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    *program = buf;
    *len = (unsigned long)st.st_size;
    return 0;
}
