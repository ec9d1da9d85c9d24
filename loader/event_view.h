/* event_view.h: one denial as users see it (from the ring buffer or the journal): filters, lines, JSON, suggestions. */
#ifndef IRONCLAW_EVENT_VIEW_H
#define IRONCLAW_EVENT_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include <arpa/inet.h>
#include "addr.h"
#include "event.h"

/* an event with what it names resolved: every string holds bytes the sandbox chose */
struct event_view {
	struct deny_event e;
	__u64 time_ns; /* CLOCK_REALTIME */
	const char *cgroup; /* path below the cgroup v2 mount, "-" for none */
	const char *tool; /* the tool's cgroup path, "" for none */
	const char *stage; /* "dispatcher", a stage's name, or "slot N" */
};

/* what log and suggest keep; a NULL or unset member matches everything */
struct event_filter {
	const char *tool; /* the tool's name (last path component) or cgroup path */
	unsigned int reason; /* REASON_MAX: any */
	int verdict; /* -1 any, 0 deny, 1 would-deny */
	bool has_dest;
	struct addr dest; /* an address or prefix */
	__u64 since_ns; /* CLOCK_REALTIME; 0: from the start */
};

void event_filter_init(struct event_filter *f);
/*
 * Each sets one member from the command line's text: 0, or -EINVAL with a
 * line in err saying what is accepted.
 */
int event_filter_reason(struct event_filter *f, const char *s, char *err, size_t len);
int event_filter_verdict(struct event_filter *f, const char *s, char *err, size_t len);
int event_filter_dest(struct event_filter *f, const char *s, char *err, size_t len);
/* "2026-12-05T20:00:00Z", "2026-12-05 20:00", "@UNIXSECONDS" or an age: "90s", "15m", "2h", "1d" */
int event_filter_since(struct event_filter *f, const char *s, char *err, size_t len);
bool event_match(const struct event_filter *f, const struct event_view *v);

/* the words of one event, as every output writes them (bytes of comm not escaped yet) */
struct event_words {
	char when[40]; /* 2026-12-05T20:00:00.123Z */
	char src[64], dst[64]; /* ADDR:PORT, [ADDR]:PORT, or "-" */
	char daddr[INET6_ADDRSTRLEN]; /* the destination's address, "-" */
	unsigned int dport;
	char comm[17];
	const char *verdict, *proto;
};

void event_words(const struct event_view *v, struct event_words *w);
/* one line, or one JSON object a line, of instance's event */
void event_print(FILE *out, const char *instance, const struct event_view *v, bool json);

/* one suggested rule: what audit mode let through, and how often */
struct suggestion {
	__u8 l4proto, family;
	__be16 dport;
	__u8 daddr[16];
	char tool[64]; /* the tool's name, "" for none */
	__u64 count;
};

#define MAX_SUGGESTIONS 4096

struct suggestions {
	struct suggestion *s; /* MAX_SUGGESTIONS of them */
	size_t n;
	__u64 total;
};

int suggestions_init(struct suggestions *g);
/* a would-deny event with a destination becomes (or counts for) a suggested rule */
void suggestions_add(struct suggestions *g, const struct event_view *v);
void suggestions_print(const struct suggestions *g, const char *instance, FILE *out);
void suggestions_free(struct suggestions *g);

#endif
