/* Declarations shared by the C files of CRSandbox; not part of the public header. */
#ifndef CRSANDBOX_INTERNAL_H
#define CRSANDBOX_INTERNAL_H

#include "crsandbox.h"

/* The pipe ends as the child sees them right after clone3. */
struct rs_child_fds {
    int sync_r, sync_w;
    int report_r, report_w;
    int status_r, status_w;   /* -1 without a reaper */
};

/* Never returns: execs the command or reports and exits. */
_Noreturn void rs_child_main(const struct rs_plan *plan, const struct rs_child_fds *fds);

/* close_range(lo, hi, flags), or a walk over the fds where the kernel lacks it (child.c). */
int rs_close_span(unsigned lo, unsigned hi, unsigned flags);

/* Reports {stage, err, index} and exits with RS_EXIT_SETUP. */
_Noreturn void rs_child_fail(int report_fd, int stage, int err, int index);

/* Builds the new root from plan->mounts and pivots into it (mount.c). Reports on failure. */
void rs_build_root(const struct rs_plan *plan, int report_fd);

/* Hides the kernel files podman hides and makes the ones it protects read-only, under `root`
 * (only those groups in `what`, RS_MASK_*, whose /proc or /sys really is procfs or sysfs).
 * Files are covered with a bind of `devnull`, directories with an empty read-only tmpfs. */
void rs_mask_paths(unsigned what, const char *root, const char *devnull, int report_fd);

#endif
