/* suggest.c: audit mode's would-deny events as profile lines, by name where the events know one, merged with the profile in force. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "reason.h"
#include "suggest.h"
#include "text.h"

int suggestions_init(struct suggestions *g)
{
	memset(g, 0, sizeof(*g));
	g->s = calloc(MAX_SUGGESTIONS, sizeof(*g->s));
	return g->s ? 0 : -ENOMEM;
}

void suggestions_free(struct suggestions *g)
{
	free(g->s);
	g->s = NULL;
}

static const char *last_component(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool same_suggestion(const struct suggestion *a, const struct suggestion *b)
{
	if (a->kind != b->kind || strcmp(a->tool, b->tool))
		return false;
	if (a->kind == SUGGEST_DNS)
		return !strcmp(a->name, b->name);
	return a->l4proto == b->l4proto && a->family == b->family && a->dport == b->dport &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr)) && !strcmp(a->name, b->name);
}

/* the denials a rule would have allowed: no rule for the destination (or its name ran out) */
static bool wants_rule(__u16 reason)
{
	return reason == REASON_NO_RULE || reason == REASON_NO_CLASS ||
	       reason == REASON_NAME_EXPIRED;
}

void suggestions_add(struct suggestions *g, const struct event_view *v)
{
	const struct deny_event *e = &v->e;
	struct suggestion c = {};
	struct suggestion *s;

	if (e->kind != EVENT_DENY || !e->audit)
		return;
	if (e->reason == REASON_QNAME && v->qname) {
		c.kind = SUGGEST_DNS;
		event_qname(v->qname, v->qname_len, c.name, sizeof(c.name));
		for (char *p = c.name; *p; p++)
			*p = tolower(
				(unsigned char)*p); /* ASCII alone: event_qname escaped the rest */
	} else if (wants_rule(e->reason) && e->family &&
		   (e->l4proto == IPPROTO_TCP || e->l4proto == IPPROTO_UDP) && e->dport) {
		c.kind = v->dest_name && v->dest_name[0] ? SUGGEST_NAME : SUGGEST_ADDRESS;
		c.l4proto = e->l4proto;
		c.family = e->family;
		c.dport = e->dport;
		memcpy(c.daddr, e->daddr, sizeof(c.daddr));
		if (c.kind == SUGGEST_NAME)
			snprintf(c.name, sizeof(c.name), "%s", v->dest_name);
	} else {
		g->other++;
		return;
	}
	snprintf(c.tool, sizeof(c.tool), "%s", v->tool[0] ? last_component(v->tool) : "");
	c.count = 1;
	g->total++;
	for (size_t i = 0; i < g->n; i++) {
		if (same_suggestion(&g->s[i], &c)) {
			g->s[i].count++;
			return;
		}
	}
	if (g->n == MAX_SUGGESTIONS)
		return;
	s = &g->s[g->n++];
	*s = c;
}

/* the line of a suggestion, without its count */
static void render(const struct suggestion *s, char *buf, size_t len)
{
	const char *proto = s->l4proto == IPPROTO_TCP ? "tcp" : "udp";
	char a[INET6_ADDRSTRLEN] = "";
	int n;

	if (s->kind == SUGGEST_DNS && !event_qname_plain(s->name)) {
		/* printable ASCII (event_qname): bytes no 'allow dns' line names */
		n = snprintf(buf, len, "# a query for '%s': no 'allow dns' line can name it",
			     s->name);
		return;
	} else if (s->kind == SUGGEST_DNS) {
		n = snprintf(buf, len, "allow dns %s", s->name);
	} else if (s->kind == SUGGEST_NAME) {
		n = snprintf(buf, len, "allow %s name %s port %u", proto, s->name, ntohs(s->dport));
	} else {
		inet_ntop(s->family, s->daddr, a, sizeof(a));
		n = snprintf(buf, len, "allow %s %s port %u", proto, a, ntohs(s->dport));
	}
	if (s->tool[0] && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " tool %s", s->tool);
}

static bool ports_overlap(__u16 alo, __u16 ahi, __u16 blo, __u16 bhi)
{
	return alo <= bhi && blo <= ahi;
}

/* the rule of base that one's (a one-line profile) would duplicate or overlap, or NULL */
static const struct rule_origin *in_profile(const struct profile *base, const struct profile *one)
{
	for (size_t i = 0; one->nr_rules && i < base->nr_rules; i++) {
		const struct rule *a = &base->rules[i], *b = &one->rules[0];

		if (a->l4proto == b->l4proto && addr_equal(&a->dst, &b->dst) &&
		    rule_origin_same_tool(&a->o, &b->o) &&
		    ports_overlap(a->port_lo, a->port_hi, b->port_lo, b->port_hi))
			return &a->o;
	}
	for (size_t i = 0; one->nr_dns_names && i < base->nr_dns_names; i++) {
		const struct dns_name_rule *a = &base->dns_names[i], *b = &one->dns_names[0];

		if (a->wildcard == b->wildcard && !strcmp(a->name, b->name) &&
		    rule_origin_same_tool(&a->o, &b->o))
			return &a->o;
	}
	for (size_t i = 0; one->nr_name_rules && i < base->nr_name_rules; i++) {
		const struct name_rule *a = &base->name_rules[i], *b = &one->name_rules[0];

		if (a->l4proto == b->l4proto && !strcmp(a->host, b->host) &&
		    rule_origin_same_tool(&a->o, &b->o) &&
		    ports_overlap(a->port_lo, a->port_hi, b->port_lo, b->port_hi))
			return &a->o;
	}
	return NULL;
}

/* a name rule for this port goes to a stage that follows names (the plan of base) */
static bool port_follows_names(const struct ruleset *base, const struct suggestion *s)
{
	int st = plan_stage_for(&base->plan, s->l4proto, ntohs(s->dport));

	return st >= 0 && (size_t)st < base->nr_stages && base->stages[st].follows_names;
}

/* one line: printed as a rule, or as a comment saying why not; 1 when printed as a rule */
static int print_line(const char *line, __u64 count, struct ruleset *base, size_t *nr, FILE *out)
{
	struct profile one = {};
	struct diag quiet = {};
	const struct rule_origin *o;
	int err, printed = 0;

	if (line[0] == '#') {
		fputs(line, out); /* made of a name event_qname wrote: printable ASCII */
		fprintf(out, " (%llu would-deny)\n", (unsigned long long)count);
		return 0;
	}
	err = profile_parse_line(&one, "suggest", 1, line, NULL, &quiet);
	if (err || (!one.nr_rules && !one.nr_dns_names && !one.nr_name_rules)) {
		fprintf(out, "# not a line a profile can hold (%llu would-deny): ",
			(unsigned long long)count);
		text_plain(out, line);
		fprintf(out, "\n");
	} else if (base && (o = in_profile(&base->prof, &one))) {
		fprintf(out, "# in the profile already (%s:%d) (%llu would-deny): ",
			o->file ? o->file : "-", o->line, (unsigned long long)count);
		text_plain(out, line);
		fprintf(out, "\n");
	} else {
		text_plain(out, line);
		fprintf(out, "  # %llu would-deny\n", (unsigned long long)count);
		printed = 1;
		/* what later lines are compared with */
		if (base)
			profile_parse_line(&base->prof, "suggest", (int)++*nr, line, NULL, &quiet);
	}
	profile_free(&one);
	diag_free(&quiet);
	return printed;
}

void suggestions_print(const struct suggestions *g, const char *instance, struct ruleset *base,
		       FILE *out)
{
	char(*lines)[SUGGEST_NAME_MAX + 128] = calloc(g->n + 1, sizeof(*lines));
	__u64 *counts = calloc(g->n + 1, sizeof(*counts));
	size_t nl = 0, nr = 0, printed = 0;

	if (!lines || !counts) {
		free(lines);
		free(counts);
		fprintf(out, "# out of memory\n");
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		struct suggestion s = g->s[i];
		size_t j;

		/* a name rule only where the port's stage follows names: else its address */
		if (s.kind == SUGGEST_NAME && base && !port_follows_names(base, &s))
			s.kind = SUGGEST_ADDRESS;
		render(&s, lines[nl], sizeof(lines[nl]));
		/* two addresses of one name are one name rule */
		for (j = 0; j < nl && strcmp(lines[j], lines[nl]); j++)
			;
		counts[j] += s.count;
		if (j == nl)
			nl++;
	}
	fprintf(out, "# from %llu would-deny events of instance '%s'; review the lines\n",
		(unsigned long long)g->total, instance);
	if (!base)
		fprintf(out, "# (the profile in force could not be read: lines are not checked "
			     "against it)\n");
	for (size_t i = 0; i < nl; i++)
		printed += print_line(lines[i], counts[i], base, &nr, out);
	fprintf(out, "# %zu lines", printed);
	if (g->other)
		fprintf(out,
			"; %llu would-deny events of reasons no rule allows (log --verdict "
			"would-deny)",
			(unsigned long long)g->other);
	fprintf(out, "\n");
	free(lines);
	free(counts);
}
