/* phases.h: where a command's time goes: IRONCLAW_PHASES=1 prints each phase's time to stderr. */
#ifndef IRONCLAW_PHASES_H
#define IRONCLAW_PHASES_H

/*
 * Ends the phase running since the last mark (or the first call) and names
 * it: "phase NAME: MS ms" on stderr when IRONCLAW_PHASES is set, else nothing.
 */
void phase_mark(const char *name);

#endif
