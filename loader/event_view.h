/* event_view.h: one event (a denial, a flow, a query) as users see it (from the ring buffer or the journal): filters, lines, JSON. */
#ifndef IRONCLAW_EVENT_VIEW_H
#define IRONCLAW_EVENT_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include <arpa/inet.h>
#include "addr.h"
#include "event.h"

/* an event with what it names resolved: every string holds bytes the sandbox chose */
struct event_view {
	struct deny_event e; /* e.kind: enum event_kind */
	__u64 time_ns; /* CLOCK_REALTIME */
	const char *cgroup; /* path below the cgroup v2 mount, "-" for none */
	const char *tool; /* the tool's cgroup path, "" for none */
	const char *stage; /* "dispatcher", a stage's name, or "slot N" */
	const char *rule; /* the allowing rule's "file:line", "" for none or unknown */
	const __u8 *qname; /* the question's name in wire form as the packet had it, or NULL */
	size_t qname_len;
	const char *dest_name; /* the name the destination was learned for, "" for none */
};

/*
 * A question's name (wire form: length-prefixed labels) in presentation
 * form, "api.example": every byte but letters, digits, '-' and '_' of a
 * label written \DDD (RFC 1035's master files), so the text is printable
 * ASCII whatever the sandbox sent; "." for the root. -EINVAL (out holds
 * what was read, then "?") when the labels run past len, or a length byte
 * is over 63; -E2BIG when out is too small.
 */
int event_qname(const __u8 *wire, size_t len, char *out, size_t outlen);
/* the name as an 'allow dns' line could name it: lowercase, no escapes; false if it cannot */
bool event_qname_plain(const char *presentation);

/* event_filter.kinds: bits of enum event_kind */
#define EVENT_KIND_BIT(k) (1u << (k))
#define EVENT_KINDS_DENIALS EVENT_KIND_BIT(EVENT_DENY)
#define EVENT_KINDS_FLOWS (EVENT_KIND_BIT(EVENT_FLOW) | EVENT_KIND_BIT(EVENT_QUERY))

/* what log and suggest keep; a NULL or unset member matches everything */
struct event_filter {
	unsigned int kinds; /* EVENT_KIND_BIT()s: denials (the default), or --flows */
	const char *tool; /* the tool's name (last path component) or cgroup path */
	unsigned int reason; /* REASON_MAX: any */
	int verdict; /* -1 any, 0 deny, 1 would-deny (denials) */
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

/* the words of one event, as every output writes them (bytes of comm, rule, dest_name not escaped) */
struct event_words {
	char when[40]; /* 2026-12-05T20:00:00.123Z */
	char src[64], dst[64]; /* ADDR:PORT, [ADDR]:PORT, or "-" */
	char daddr[INET6_ADDRSTRLEN]; /* the destination's address, "-" */
	unsigned int dport;
	char comm[17];
	char qname[4 * EVENT_NAME_MAX + 8]; /* event_qname's presentation (printable ASCII), "" */
	const char *name_word; /* what qname is: "query", or "server_name" (reason sni) */
	const char *verdict, *reason, *kind, *proto;
	const char *rule, *dest_name; /* "" for none */
};

void event_words(const struct event_view *v, struct event_words *w);
/* one line, or one JSON object a line, of instance's event */
void event_print(FILE *out, const char *instance, const struct event_view *v, bool json);

#endif
