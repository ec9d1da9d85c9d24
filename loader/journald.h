/* journald.h: events sent to the systemd journal with structured fields (collect --journald). */
#ifndef IRONCLAW_JOURNALD_H
#define IRONCLAW_JOURNALD_H

#include "event_view.h"

/* journalctl MESSAGE_ID=...: a denial (or would-deny); a flow or query record; events missed */
#define JOURNALD_DENY_MESSAGE_ID "5d2b0f3e8c7a4b1f9e6d3c2a1b0f9e8d"
#define JOURNALD_FLOW_MESSAGE_ID "8e1c2d3b4a5f46e7b8c9d0a1f2e3d4c5"
#define JOURNALD_MISSED_MESSAGE_ID "a4c3e2f1b0d94c8e8f7a6b5c4d3e2f1a"

/*
 * One entry with MESSAGE (the line 'log' prints) and IRONCLAW_* fields
 * (INSTANCE, TIME, KIND, VERDICT, REASON, HOOK, STAGE, PROTOCOL, SOURCE,
 * DESTINATION, DEST_ADDR, DEST_PORT, CGROUP, TOOL, PID, COMM, QUERY,
 * DEST_NAME, RULE); every byte the sandbox chose is escaped as 'log' escapes it. 0, or -errno (-ENOENT: no
 * journald listens).
 */
int journald_event(const char *instance, const struct event_view *v);
/* what the ring buffer dropped while no collector ran: a warning */
int journald_missed(const char *instance, unsigned long long full, unsigned long long rate);

#endif
