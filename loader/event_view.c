/* event_view.c: one event (a denial, a flow, a query) as users see it (from the ring buffer or the journal): filters, lines, JSON. */
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
	f->kinds = EVENT_KINDS_DENIALS;
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
	else if (!strcmp(s, "allow"))
		f->kinds = EVENT_KINDS_FLOWS; /* as --flows */
	else {
		snprintf(err, len, "bad verdict '%s': deny, would-deny or allow", s);
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
	if (v->e.kind > EVENT_QUERY || !(f->kinds & EVENT_KIND_BIT(v->e.kind)))
		return false;
	if (f->since_ns && v->time_ns < f->since_ns)
		return false;
	if (f->reason != REASON_MAX && v->e.reason != f->reason)
		return false;
	if (f->verdict >= 0 && (v->e.kind != EVENT_DENY || !!v->e.audit != f->verdict))
		return false;
	if (f->tool &&
	    (!v->tool[0] || (strcmp(f->tool, v->tool) && strcmp(f->tool, last_component(v->tool)))))
		return false;
	return !f->has_dest || dest_match(&f->dest, &v->e);
}

int event_qname(const __u8 *wire, size_t len, char *out, size_t outlen)
{
	size_t pos = 0, o = 0;
	int err = 0;

	if (!outlen)
		return -E2BIG;
	out[0] = '\0';
	for (;;) {
		size_t l;

		if (pos >= len || wire[pos] > 63) {
			err = -EINVAL;
			break;
		}
		l = wire[pos++];
		if (!l)
			break;
		if (pos + l > len) {
			err = -EINVAL;
			break;
		}
		for (size_t i = 0; i < l; i++) {
			unsigned char c = wire[pos + i];
			int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				    (c >= '0' && c <= '9') || c == '-' || c == '_';

			if (o + 5 >= outlen)
				return -E2BIG;
			o += plain ? (size_t)snprintf(out + o, outlen - o, "%c", c) :
				     (size_t)snprintf(out + o, outlen - o, "\\%03u", c);
		}
		pos += l;
		if (o + 2 >= outlen)
			return -E2BIG;
		out[o++] = '.';
		out[o] = '\0';
	}
	if (err) {
		if (o + 2 >= outlen)
			return -E2BIG;
		out[o++] = '?';
	} else if (!o) {
		out[o++] = '.';
	} else if (o > 1) {
		o--; /* no dot after the last label */
	}
	out[o] = '\0';
	return err;
}

bool event_qname_plain(const char *s)
{
	if (!s[0] || !strcmp(s, ".") || strchr(s, '\\') || strchr(s, '?'))
		return false;
	return true;
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

static const char *kind_verdict(const struct deny_event *e)
{
	if (e->kind == EVENT_FLOW || e->kind == EVENT_QUERY)
		return "allow";
	return e->audit ? "would-deny" : "deny";
}

/* the reason column: a denial's reason; what an allowed record is */
static const char *kind_reason(const struct deny_event *e)
{
	if (e->kind == EVENT_FLOW)
		return "flow";
	if (e->kind == EVENT_QUERY)
		return "query";
	return reason_name(e->reason);
}

static const char *kind_name(const struct deny_event *e)
{
	return e->kind == EVENT_FLOW ? "flow" : e->kind == EVENT_QUERY ? "query" : "deny";
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
	w->verdict = kind_verdict(e);
	w->reason = kind_reason(e);
	w->kind = kind_name(e);
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
	w->qname[0] = '\0';
	/* the https stage's denial carries the TLS server name seen, in the same form */
	w->name_word = e->reason == REASON_SNI && e->kind == EVENT_DENY ? "server_name" : "query";
	if (v->qname)
		event_qname(v->qname, v->qname_len, w->qname, sizeof(w->qname));
	w->rule = v->rule ? v->rule : "";
	w->dest_name = v->dest_name ? v->dest_name : "";
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
		/* after the members of before flows and names: their order is kept */
		json_str(&j, "kind", w.kind);
		if (e->kind != EVENT_DENY)
			json_str(&j, "rule", w.rule[0] ? w.rule : NULL);
		if (v->qname)
			json_str(&j, w.name_word, w.qname);
		if (w.dest_name[0])
			json_str(&j, "destination_name", w.dest_name);
		json_end(&j);
	} else {
		fprintf(out, "%s %-10s %-14s %-5s %-22s -> %-24s %s/", w.when, w.verdict, w.reason,
			w.proto, w.src, w.dst, hook_label(e->hook));
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
		if (v->qname) /* printable ASCII: event_qname */
			fprintf(out, " %s %s", w.name_word, w.qname);
		if (w.dest_name[0]) {
			fprintf(out, " name ");
			text_plain(out, w.dest_name);
		}
		if (w.rule[0]) {
			fprintf(out, " rule ");
			text_plain(out, w.rule);
		}
		fprintf(out, "\n");
	}
	fflush(out);
}
