/* journald.c: events sent to the systemd journal with structured fields (collect --journald). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include "journald.h"
#include "links.h"
#include "reasons.h"
#include "text.h"

#define JOURNALD_MAX_FIELDS 24

struct fields {
	struct iovec iov[JOURNALD_MAX_FIELDS];
	int n;
	bool full;
};

/* one FIELD=value; value is text the caller made safe, or bytes escaped here */
static void add(struct fields *f, bool escape, const char *key, const char *fmt, ...)
{
	char *val = NULL, *field = NULL;
	size_t vlen = 0;
	va_list ap;

	if (f->n == JOURNALD_MAX_FIELDS) {
		f->full = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	if (val && escape) {
		FILE *m = open_memstream(&field, &vlen);

		if (m) {
			text_plain(m, val);
			fclose(m);
		}
		free(val);
		val = field;
		field = NULL;
	}
	if (!val || asprintf(&field, "%s=%s", key, val) < 0) {
		free(val);
		f->full = true;
		return;
	}
	free(val);
	f->iov[f->n].iov_base = field;
	f->iov[f->n++].iov_len = strlen(field);
}

static int send_fields(struct fields *f)
{
	int err = f->full ? -ENOMEM : sd_journal_sendv(f->iov, f->n);

	for (int i = 0; i < f->n; i++)
		free(f->iov[i].iov_base);
	return err;
}

int journald_event(const char *instance, const struct event_view *v)
{
	const struct deny_event *e = &v->e;
	struct event_words w;
	struct fields f = {};
	char *line = NULL;
	size_t len = 0;
	FILE *m;

	event_words(v, &w);
	m = open_memstream(&line, &len);
	if (!m)
		return -ENOMEM;
	event_print(m, instance, v, false);
	fclose(m);
	if (len && line[len - 1] == '\n')
		line[len - 1] = 0;
	/* the line has every byte of the sandbox's escaped already */
	add(&f, false, "MESSAGE", "%s %s", instance, line);
	free(line);
	add(&f, false, "MESSAGE_ID", "%s",
	    e->kind == EVENT_DENY ? JOURNALD_DENY_MESSAGE_ID : JOURNALD_FLOW_MESSAGE_ID);
	/* a denial: notice; a would-deny, a flow, a query: info */
	add(&f, false, "PRIORITY", "%d", e->kind == EVENT_DENY && !e->audit ? 5 : 6);
	add(&f, false, "SYSLOG_IDENTIFIER", "ironclaw-pipe");
	add(&f, false, "IRONCLAW_INSTANCE", "%s", instance);
	add(&f, false, "IRONCLAW_TIME", "%s", w.when);
	add(&f, false, "IRONCLAW_KIND", "%s", w.kind);
	add(&f, false, "IRONCLAW_VERDICT", "%s", w.verdict);
	add(&f, false, "IRONCLAW_REASON", "%s", w.reason);
	add(&f, false, "IRONCLAW_HOOK", "%s", hook_label(e->hook));
	add(&f, true, "IRONCLAW_STAGE", "%s", v->stage);
	add(&f, false, "IRONCLAW_PROTOCOL", "%s", w.proto);
	if (strcmp(w.src, "-"))
		add(&f, false, "IRONCLAW_SOURCE", "%s", w.src);
	if (e->family) {
		add(&f, false, "IRONCLAW_DESTINATION", "%s", w.dst);
		add(&f, false, "IRONCLAW_DEST_ADDR", "%s", w.daddr);
		add(&f, false, "IRONCLAW_DEST_PORT", "%u", w.dport);
	}
	add(&f, true, "IRONCLAW_CGROUP", "%s", v->cgroup);
	if (v->tool[0])
		add(&f, true, "IRONCLAW_TOOL", "%s", v->tool);
	if (e->pid) {
		add(&f, false, "IRONCLAW_PID", "%u", e->pid);
		add(&f, true, "IRONCLAW_COMM", "%s", w.comm);
	}
	if (w.qname[0]) /* printable ASCII */
		add(&f, false,
		    strcmp(w.name_word, "query") ? "IRONCLAW_SERVER_NAME" : "IRONCLAW_QUERY", "%s",
		    w.qname);
	if (w.dest_name[0])
		add(&f, true, "IRONCLAW_DEST_NAME", "%s", w.dest_name);
	if (w.rule[0])
		add(&f, true, "IRONCLAW_RULE", "%s", w.rule);
	return send_fields(&f);
}

int journald_missed(const char *instance, unsigned long long full, unsigned long long rate)
{
	struct fields f = {};

	add(&f, false, "MESSAGE",
	    "%s: %llu events missed (ring buffer full), %llu held back (rate limit)", instance,
	    full, rate);
	add(&f, false, "MESSAGE_ID", "%s", JOURNALD_MISSED_MESSAGE_ID);
	add(&f, false, "PRIORITY", "%d", 4); /* warning */
	add(&f, false, "SYSLOG_IDENTIFIER", "ironclaw-pipe");
	add(&f, false, "IRONCLAW_INSTANCE", "%s", instance);
	add(&f, false, "IRONCLAW_MISSED_FULL", "%llu", full);
	add(&f, false, "IRONCLAW_MISSED_RATE", "%llu", rate);
	return send_fields(&f);
}
