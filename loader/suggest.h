/* suggest.h: audit mode's would-deny events as profile lines, by name where the events know one, merged with the profile in force. */
#ifndef IRONCLAW_SUGGEST_H
#define IRONCLAW_SUGGEST_H

#include <stdio.h>
#include "event_view.h"
#include "ruleset.h"

enum suggestion_kind {
	SUGGEST_ADDRESS, /* allow PROTO ADDRESS port P */
	SUGGEST_DNS, /* allow dns NAME: a query name was denied */
	SUGGEST_NAME, /* allow PROTO name HOST port P: the destination was learned for HOST */
};

/* a query name in presentation form (event_qname): at most 4 bytes per byte of the wire */
#define SUGGEST_NAME_MAX (4 * EVENT_NAME_MAX + 8)

/* one suggested rule: what audit mode let through, and how often */
struct suggestion {
	enum suggestion_kind kind;
	__u8 l4proto, family;
	__be16 dport;
	__u8 daddr[16];
	char name[SUGGEST_NAME_MAX]; /* SUGGEST_DNS, SUGGEST_NAME */
	char tool[64]; /* the tool's name, "" for none */
	__u64 count;
};

#define MAX_SUGGESTIONS 4096

struct suggestions {
	struct suggestion *s; /* MAX_SUGGESTIONS of them */
	size_t n;
	__u64 total; /* would-deny events with a suggestion */
	__u64 other; /* would-deny events no rule can be suggested for (their reason) */
};

int suggestions_init(struct suggestions *g);
/*
 * A would-deny event becomes (or counts for) a suggestion: a denied query
 * name 'allow dns NAME'; a destination with no rule 'allow PROTO name HOST
 * port P' when it was learned for HOST, else 'allow PROTO ADDRESS port P'.
 */
void suggestions_add(struct suggestions *g, const struct event_view *v);
/*
 * The suggestions as profile lines that 'check' accepts with the profile in
 * base (NULL: not known): a line the profile (or an earlier line) already
 * has, or one the grammar or the plan refuses, is a comment saying why.
 * A name rule whose port goes to a stage that does not follow names is
 * suggested by its address instead.
 */
void suggestions_print(const struct suggestions *g, const char *instance, struct ruleset *base,
		       FILE *out);
void suggestions_free(struct suggestions *g);

#endif
