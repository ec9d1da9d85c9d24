/* phases.c: where a command's time goes: IRONCLAW_PHASES=1 prints each phase's time to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "phases.h"

void phase_mark(const char *name)
{
	static int on = -1;
	static struct timespec last;
	struct timespec now;

	if (on < 0) {
		on = getenv("IRONCLAW_PHASES") != NULL;
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "phase %s: %.1f ms\n", name,
		(now.tv_sec - last.tv_sec) * 1e3 + (now.tv_nsec - last.tv_nsec) / 1e6);
	last = now;
}
