#include <sys/prctl.h>
#include "bench_shim.h"

int bench_set_dumpable(void) { return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }
