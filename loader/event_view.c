/* event_view.c: one denial as users see it (from the ring buffer or the journal): filters, lines, JSON, suggestions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include "event_view.h"
#include "links.h"
#include "json.h"
#include "reasons.h"
#include "text.h"

void event_filter_init(struct event_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->reason = REASON_MAX;
	f->verdict = -1;
}

int event_filter_reason(struct event_filter *f, const char *s, char *err, size_t len)
{
	f->reason = reason_by_name(s);
	if (f->reason == REASON_MAX || REASON_IS_ALLOW(f->reason)) {
		snprintf(err, len, "no denial has reason '%s' (status lists the reasons)", s);
		return -EINVAL;
	}
	return 0;
}

int event_filter_verdict(struct event_filter *f, const char *s, char *err, size_t len)
{
	if (!strcmp(s, "deny"))
		f->verdict = 0;
	else if (!strcmp(s, "would-deny"))
		f->verdict = 1;
	else {
		snprintf(err, len, "bad verdict '%s': deny or would-deny", s);
		return -EINVAL;
	}
	return 0;
}

int event_filter_dest(struct event_filter *f, const char *s, char *err, size_t len)
{
	if (addr_parse(s, &f->dest)) {
		snprintf(err, len, "bad destination '%s': an address or a prefix (10.42.7.0/24)",
			 s);
		return -EINVAL;
	}
	f->has_dest = true;
	return 0;
}

int event_filter_since(struct event_filter *f, const char *s, char *err, size_t len)
{
	struct timespec now;
	struct tm tm = {};
	unsigned long long n;
	const char *end;
	char unit = 0;
	int used = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	if (s[0] == '@' && sscanf(s + 1, "%llu%n", &n, &used) == 1 && !s[1 + used]) {
		f->since_ns = n * 1000000000ull;
		return 0;
	}
	if (sscanf(s, "%llu%c%n", &n, &unit, &used) == 2 && !s[used] && strchr("smhd", unit)) {
		n *= unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
		f->since_ns = (__u64)now.tv_sec > n ? ((__u64)now.tv_sec - n) * 1000000000ull : 0;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d %H:%M", &tm);
	}
	if (!end || (*end && strcmp(end, "Z"))) {
		snprintf(err, len,
			 "bad time '%s': 2026-12-05T20:00:00Z (UTC), @UNIXSECONDS, or an age "
			 "such as 90s, 15m, 2h, 1d",
			 s);
		return -EINVAL;
	}
	f->since_ns = (__u64)timegm(&tm) * 1000000000ull;
	return 0;
}

/* the last component of a cgroup path: a tool is a directory right below the sandbox's */
static const char *last_component(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool dest_match(const struct addr *p, const struct deny_event *e)
{
	unsigned int full = p->plen / 8, rest = p->plen % 8;

	if (e->family != p->family)
		return false;
	if (memcmp(p->bytes, e->daddr, full))
		return false;
	return !rest || !((p->bytes[full] ^ e->daddr[full]) & (0xff00 >> rest));
}

bool event_match(const struct event_filter *f, const struct event_view *v)
{
	if (f->since_ns && v->time_ns < f->since_ns)
		return false;
	if (f->reason != REASON_MAX && v->e.reason != f->reason)
		return false;
	if (f->verdict >= 0 && !!v->e.audit != f->verdict)
		return false;
	if (f->tool &&
	    (!v->tool[0] || (strcmp(f->tool, v->tool) && strcmp(f->tool, last_component(v->tool)))))
		return false;
	return !f->has_dest || dest_match(&f->dest, &v->e);
}

static void endpoint(char *buf, size_t len, __u8 family, const __u8 *addr, __be16 port)
{
	char a[INET6_ADDRSTRLEN] = "-";

	if (!family) {
		snprintf(buf, len, "-");
		return;
	}
	inet_ntop(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ntohs(port));
	else
		snprintf(buf, len, "%s:%u", a, ntohs(port));
}

void event_words(const struct event_view *v, struct event_words *w)
{
	const struct deny_event *e = &v->e;
	time_t secs = v->time_ns / 1000000000ull;
	char when[32];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(w->when, sizeof(w->when), "%s.%03uZ", when,
		 (unsigned int)((v->time_ns / 1000000) % 1000));
	w->verdict = e->audit ? "would-deny" : "deny";
	w->proto = e->l4proto == IPPROTO_TCP ? "tcp" :
		   e->l4proto == IPPROTO_UDP ? "udp" :
		   e->family		     ? "other" :
					       "-";
	/* a connect() or sendto() has no source yet */
	endpoint(w->src, sizeof(w->src), hook_at_sock(e->hook) ? 0 : e->family, e->saddr, e->sport);
	endpoint(w->dst, sizeof(w->dst), e->family, e->daddr, e->dport);
	snprintf(w->daddr, sizeof(w->daddr), "-");
	if (e->family)
		inet_ntop(e->family, e->daddr, w->daddr, sizeof(w->daddr));
	w->dport = ntohs(e->dport);
	memcpy(w->comm, e->comm, sizeof(e->comm));
	w->comm[sizeof(e->comm)] = 0;
}

void event_print(FILE *out, const char *instance, const struct event_view *v, bool json)
{
	const struct deny_event *e = &v->e;
	struct event_words w;

	event_words(v, &w);
	if (json) {
		struct json j;

		json_init(&j, out);
		json_object(&j, NULL);
		json_str(&j, "time", w.when);
		json_str(&j, "instance", instance);
		json_str(&j, "hook", hook_label(e->hook));
		json_str(&j, "cgroup", v->cgroup);
		json_str(&j, "tool", v->tool);
		json_u64(&j, "pid", e->pid);
		json_str(&j, "comm", w.comm);
		json_u64(&j, "family", e->family == AF_INET6 ? 6 : e->family ? 4 : 0);
		json_str(&j, "protocol", w.proto);
		json_str(&j, "source", w.src);
		json_str(&j, "destination", w.dst);
		json_str(&j, "stage", v->stage);
		json_str(&j, "reason", reason_name(e->reason));
		json_str(&j, "verdict", w.verdict);
		json_end(&j);
	} else {
		fprintf(out, "%s %-10s %-14s %-5s %-22s -> %-24s %s/", w.when, w.verdict,
			reason_name(e->reason), w.proto, w.src, w.dst, hook_label(e->hook));
		text_plain(out, v->stage);
		fprintf(out, " cgroup ");
		text_plain(out, v->cgroup);
		if (v->tool[0] && strcmp(v->tool, v->cgroup)) {
			fprintf(out, " tool ");
			text_plain(out, v->tool);
		}
		if (e->pid) {
			fprintf(out, " pid %u ", e->pid);
			text_plain(out, w.comm);
		}
		fprintf(out, "\n");
	}
	fflush(out);
}

int suggestions_init(struct suggestions *g)
{
	memset(g, 0, sizeof(*g));
	g->s = calloc(MAX_SUGGESTIONS, sizeof(*g->s));
	return g->s ? 0 : -ENOMEM;
}

void suggestions_add(struct suggestions *g, const struct event_view *v)
{
	const struct deny_event *e = &v->e;
	const char *tool = v->tool[0] ? last_component(v->tool) : "";
	struct suggestion *s;

	if (!e->audit || !e->family || (e->l4proto != IPPROTO_TCP && e->l4proto != IPPROTO_UDP) ||
	    !e->dport)
		return;
	g->total++;
	for (size_t i = 0; i < g->n; i++) {
		s = &g->s[i];
		if (s->l4proto == e->l4proto && s->family == e->family && s->dport == e->dport &&
		    !strcmp(s->tool, tool) && !memcmp(s->daddr, e->daddr, sizeof(s->daddr))) {
			s->count++;
			return;
		}
	}
	if (g->n == MAX_SUGGESTIONS)
		return;
	s = &g->s[g->n++];
	s->l4proto = e->l4proto;
	s->family = e->family;
	s->dport = e->dport;
	snprintf(s->tool, sizeof(s->tool), "%s", tool);
	s->count = 1;
	memcpy(s->daddr, e->daddr, sizeof(s->daddr));
}

void suggestions_print(const struct suggestions *g, const char *instance, FILE *out)
{
	fprintf(out, "# %zu rules from %llu would-deny events of instance '%s'; review them\n",
		g->n, (unsigned long long)g->total, instance);
	for (size_t i = 0; i < g->n; i++) {
		const struct suggestion *s = &g->s[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(s->family, s->daddr, a, sizeof(a));
		fprintf(out, "allow %s %s port %u", s->l4proto == IPPROTO_TCP ? "tcp" : "udp", a,
			ntohs(s->dport));
		if (s->tool[0]) {
			fprintf(out, " tool ");
			text_plain(out, s->tool);
		}
		fprintf(out, "  # %llu would-deny\n", (unsigned long long)s->count);
	}
}

void suggestions_free(struct suggestions *g)
{
	free(g->s);
	g->s = NULL;
}
