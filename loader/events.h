/* events.h: the denials in an instance's ring buffer: read as they come, shown, or turned into rules. */
#ifndef IRONCLAW_EVENTS_H
#define IRONCLAW_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "diag.h"
#include "event_view.h"
#include "suggest.h"

/* the one reader of an instance's ring buffer (it holds the instance's log.lock) */
struct ring_reader;
/* called for each event, its names resolved; non-zero stops the reading */
typedef int (*ring_event_fn)(void *ctx, const struct event_view *v);

/* -ENOENT: no such instance; -EBUSY: another reader (a collector, a log) has it */
int ring_reader_open(const char *name, ring_event_fn fn, void *ctx, struct ring_reader **out,
		     struct diag *d);
/* what is in the buffer now: events handed on, or -errno */
int ring_reader_consume(struct ring_reader *r);
/* waits up to ms for events and hands them on: their count, or -errno */
int ring_reader_poll(struct ring_reader *r, int ms);
/* readable when events wait (for epoll) */
int ring_reader_fd(struct ring_reader *r);
__u32 ring_reader_map_id(const struct ring_reader *r);
void ring_reader_close(struct ring_reader *r);

/* the pinned ring buffer's id, 0 when the instance is gone */
__u32 events_map_id(const char *name);

/* the denials in the ring buffer, then (follow) as they come, until SIGINT or SIGTERM */
int events_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
	       struct diag *d);
/* the would-deny events so far into g (suggest.h); consumes them */
int events_suggest(const char *name, const struct event_filter *f, struct suggestions *g,
		   struct diag *d);

/* set by SIGINT and SIGTERM once events_stop_on_signals() ran */
extern volatile int events_stop;
void events_stop_on_signals(void);

#endif
