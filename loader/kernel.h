/* kernel.h: what the running kernel must have, checked before a command loads anything. */
#ifndef IRONCLAW_KERNEL_H
#define IRONCLAW_KERNEL_H

#include <stdio.h>

/*
 * The minimum kernel of each feature (README, "Kernels"); the floor is
 * bpf_loop (5.17): every other feature but tcx is older. Without tcx (6.6)
 * tc points attach as classic tc filters (tc_classic.h). 0, or 1 after one
 * line on out saying what the kernel lacks for cmd.
 */
int kernel_check(const char *cmd, FILE *out);

#endif
