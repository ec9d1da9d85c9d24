/* history.c: log and suggest from an instance's event journal: any number of readers, filters, follow. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "events.h"
#include "history.h"
#include "state.h"

bool history_exists(const char *name)
{
	char path[STATE_PATH_MAX];
	__u64 bytes, segs = 0;

	return !state_journal_path(path, sizeof(path), name) &&
	       !journal_usage(path, &bytes, &segs) && segs;
}

bool history_collector_running(const char *name)
{
	struct diag d = {};
	int fd;

	if (!state_exists(name))
		return false;
	fd = state_lock(name, STATE_LOG_LOCK, false, &d);
	diag_free(&d);
	if (fd >= 0)
		close(fd);
	return fd == -EWOULDBLOCK;
}

static void field_str(const struct journal_rec *rec, __u16 type, char *buf, size_t len,
		      const char *none)
{
	size_t n = 0;
	const char *p =
		journal_field(rec->payload, rec->h.len, sizeof(struct deny_event), type, &n);

	if (!p) {
		snprintf(buf, len, "%s", none);
		return;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

int history_event_view(const struct journal_rec *rec, struct event_view *v,
		       struct history_strings *s)
{
	const void *q;
	size_t qlen = 0;

	if ((rec->h.kind != JREC_EVENT && rec->h.kind != JREC_FLOW) ||
	    rec->h.len < sizeof(struct deny_event))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	memcpy(&v->e, rec->payload, sizeof(v->e));
	/* the record's kind is the journal's: a flow is never shown as a denial */
	if (rec->h.kind == JREC_EVENT)
		v->e.kind = EVENT_DENY;
	else if (v->e.kind == EVENT_DENY)
		return -EINVAL;
	field_str(rec, JF_RULE, s->rule, sizeof(s->rule), "");
	field_str(rec, JF_DEST_NAME, s->dest_name, sizeof(s->dest_name), "");
	v->rule = s->rule;
	v->dest_name = s->dest_name;
	q = journal_field(rec->payload, rec->h.len, sizeof(struct deny_event), JF_QNAME, &qlen);
	if (q) {
		v->qname_len = qlen < sizeof(s->qname) ? qlen : sizeof(s->qname);
		memcpy(s->qname, q, v->qname_len);
		v->qname = s->qname;
	}
	v->time_ns = rec->h.time_ns;
	field_str(rec, JF_CGROUP, s->cgroup, sizeof(s->cgroup), "-");
	field_str(rec, JF_TOOL, s->tool, sizeof(s->tool), "");
	field_str(rec, JF_STAGE, s->stage, sizeof(s->stage), "-");
	v->cgroup = s->cgroup;
	v->tool = s->tool;
	v->stage = s->stage;
	return 0;
}

/* the collector's notes, on stderr (stdout stays events): a start that missed events */
static void note(const struct journal_rec *rec, const char *name)
{
	struct journal_drops dr;
	char when[64];
	time_t secs = rec->h.time_ns / 1000000000ull;
	struct tm tm;

	if (rec->h.kind != JREC_START || rec->h.len < sizeof(dr))
		return;
	memcpy(&dr, rec->payload, sizeof(dr));
	if (!dr.missed_full && !dr.missed_rate)
		return;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr,
		"-- %s: a collector began on instance '%s'; events dropped before it: %llu "
		"(buffer full), %llu (rate limit)\n",
		when, name, (unsigned long long)dr.missed_full, (unsigned long long)dr.missed_rate);
}

struct history_ctx {
	const char *name;
	const struct event_filter *f;
	FILE *out;
	bool json;
	struct suggestions *sugg;
};

/* the records there are now: 0, or -errno */
static int drain(struct journal_reader *r, struct history_ctx *hc, struct diag *d)
{
	struct history_strings s;
	struct journal_rec rec;
	struct event_view v;
	__u64 gap = r->gap;
	int ret;

	while ((ret = journal_read(r, &rec, d)) == 1) {
		if (r->gap != gap) {
			fprintf(stderr, "-- %llu records were rotated away before they were read\n",
				(unsigned long long)(r->gap - gap));
			gap = r->gap;
		}
		if (rec.h.kind == JREC_START && !hc->sugg && rec.h.time_ns >= hc->f->since_ns) {
			fflush(hc->out);
			note(&rec, hc->name);
		}
		if (history_event_view(&rec, &v, &s) || !event_match(hc->f, &v))
			continue;
		if (hc->sugg)
			suggestions_add(hc->sugg, &v);
		else
			event_print(hc->out, hc->name, &v, hc->json);
	}
	diag_print(d, stderr);
	diag_free(d);
	return ret;
}

static int read_journal(const char *name, bool follow, struct history_ctx *hc, struct diag *d)
{
	char path[STATE_PATH_MAX];
	struct journal_reader *r = malloc(sizeof(*r));
	struct diag rd = {};
	int err;

	if (!r)
		return -ENOMEM;
	state_journal_path(path, sizeof(path), name);
	err = journal_open_read(r, path);
	if (err) {
		diag_error(d, NULL, 0, "cannot read the journal %s: %s", path, strerror(-err));
		free(r);
		return err;
	}
	err = drain(r, hc, &rd);
	if (follow) {
		events_stop_on_signals();
		while (!err && !events_stop) {
			struct timespec ts = { 0, 200 * 1000000L };

			nanosleep(&ts, NULL);
			err = drain(r, hc, &rd);
		}
	} else if (!err && !history_collector_running(name) && events_map_id(name)) {
		fprintf(stderr,
			"no collector is running for instance '%s': newer events wait in its ring "
			"buffer until one does ('ironclaw-pipe collect')\n",
			name);
	}
	journal_close_read(r);
	free(r);
	return err;
}

int history_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
		struct diag *d)
{
	struct history_ctx hc = { .name = name, .f = f, .out = out, .json = json };

	return read_journal(name, follow, &hc, d);
}

int history_suggest(const char *name, const struct event_filter *f, struct suggestions *g,
		    struct diag *d)
{
	struct history_ctx hc = { .name = name, .f = f, .sugg = g };

	return read_journal(name, false, &hc, d);
}
