#pragma once
/// prctl(PR_SET_DUMPABLE, 1): Swift's Glibc module does not import the variadic prctl.
int bench_set_dumpable(void);
