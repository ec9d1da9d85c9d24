/* learn_rules.c: host names that follow DNS ('allow tcp name HOST ...', 'dns learn ...'): grammar and checks. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dns_names.h"
#include "learn_rules.h"
#include "text.h"

/* a host name as text: one name, no wildcard; NULL when fine */
static const char *host_problem(const char *s)
{
	if (!*s)
		return "empty";
	if (strchr(s, '*'))
		return "a name rule follows one host name, not a wildcard";
	return dns_rule_name_problem(s);
}

/* allow tcp|udp name HOST port P[-P] [tool T] */
int learn_parse_rule(struct profile *p, const char *file, int line, char **w, int n, struct diag *d)
{
	struct name_rule r = {}, *grown;
	const char *why;
	size_t len;

	r.l4proto = w[1][0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
	if (n < 4) {
		diag_error(d, file, line, "missing host name after 'name'");
		return -EINVAL;
	}
	if (n < 6 || strcmp(w[4], "port")) {
		if (n >= 5 && strcmp(w[4], "port"))
			diag_error(d, file, line, "unknown word '%s' (expected 'port')", w[4]);
		else
			diag_error(d, file, line, "missing 'port <port>[-<port>]'");
		return -EINVAL;
	}
	switch (port_range_parse(w[5], &r.port_lo, &r.port_hi)) {
	case 0:
		break;
	case -ERANGE:
		diag_error(d, file, line, "port '%s' out of range (1-65535)", w[5]);
		return -EINVAL;
	case -EDOM:
		diag_error(d, file, line, "reversed port range '%s'", w[5]);
		return -EINVAL;
	default:
		diag_error(d, file, line, "bad port '%s'", w[5]);
		return -EINVAL;
	}
	if (r.port_lo <= 53 && r.port_hi >= 53) {
		diag_error(d, file, line,
			   "a name rule cannot allow port 53: resolvers are given as addresses");
		return -EINVAL;
	}
	if (n > 6 && strcmp(w[6], "tool")) {
		diag_error(d, file, line, "unknown word '%s' (expected 'tool')", w[6]);
		return -EINVAL;
	}
	if (n == 7) {
		diag_error(d, file, line, "missing tool name after 'tool'");
		return -EINVAL;
	}
	if (n > 7 && !tool_name_valid(w[7])) {
		diag_error(d, file, line,
			   "bad tool '%s': a tool is a cgroup directory right below the sandbox's "
			   "cgroup; give its name, not a path",
			   w[7]);
		return -EINVAL;
	}
	if (n > 8) {
		diag_error(d, file, line, "unknown word '%s'", w[8]);
		return -EINVAL;
	}
	r.host = strdup(w[3]);
	if (!r.host)
		return -ENOMEM;
	for (char *c = r.host; *c; c++)
		*c = tolower((unsigned char)*c);
	len = strlen(r.host);
	if (len > 1 && r.host[len - 1] == '.')
		r.host[--len] = '\0'; /* "corp." is "corp" */
	why = host_problem(r.host);
	if (!why && strspn(r.host, "0123456789.") == len)
		why = "an address, not a host name (write 'allow tcp ADDRESS port ...')";
	if (why) {
		diag_error(d, file, line, "bad host name '%s': %s", w[3], why);
		free(r.host);
		return -EINVAL;
	}
	r.o.tool = n > 7 ? strdup(w[7]) : NULL;
	r.o.file = profile_intern_file(p, file);
	r.o.line = line;
	if (asprintf(&r.o.text, "allow %s name %s port %s%s%s", w[1], r.host, w[5],
		     n > 7 ? " tool " : "", n > 7 ? w[7] : "") < 0)
		r.o.text = NULL;
	grown = realloc(p->name_rules, (p->nr_name_rules + 1) * sizeof(*grown));
	if (!r.o.text || (n > 7 && !r.o.tool) || !r.o.file || !grown) {
		free(r.host);
		rule_origin_free(&r.o);
		if (grown)
			p->name_rules = grown;
		return -ENOMEM;
	}
	p->name_rules = grown;
	p->name_rules[p->nr_name_rules++] = r;
	return 0;
}

static int setting(const char *file, int line, const char *what, const char *word, long min,
		   long max, __u32 *out, struct diag *d)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(word, &end, 10);
	if (errno || end == word || *end || v < min || v > max) {
		diag_error(d, file, line, "bad %s '%s' (%ld-%ld)", what, word, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* dns learn [grace S] [max-ttl S] [max-addresses N] [rate N] */
int learn_parse_settings(struct profile *p, const char *file, int line, char **w, int n,
			 struct diag *d)
{
	struct learn_settings s = { LEARN_DEFAULT_GRACE,
				    LEARN_DEFAULT_MAX_TTL,
				    LEARN_DEFAULT_MAX_ADDRS,
				    LEARN_DEFAULT_RATE,
				    NULL,
				    line };
	unsigned int seen = 0;

	if (p->learn.file) {
		diag_error(d, file, line, "learning already set at %s:%d", p->learn.file,
			   p->learn.line);
		return -EINVAL;
	}
	if (n < 3) {
		diag_error(
			d, file, line,
			"missing settings after 'dns learn' (grace S, max-ttl S, max-addresses N, "
			"rate N)");
		return -EINVAL;
	}
	for (int i = 2; i < n; i += 2) {
		static const char *const keys[] = { "grace", "max-ttl", "max-addresses", "rate" };
		int k;

		for (k = 0; k < 4 && strcmp(w[i], keys[k]); k++)
			;
		if (k == 4) {
			diag_error(
				d, file, line,
				"unknown word '%s' (expected grace, max-ttl, max-addresses or rate)",
				w[i]);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			diag_error(d, file, line, "'%s' given twice", w[i]);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (i + 1 >= n) {
			diag_error(d, file, line, "missing value after '%s'", w[i]);
			return -EINVAL;
		}
		if ((k == 0 &&
		     setting(file, line, "grace", w[i + 1], 0, LEARN_GRACE_MAX, &s.grace_s, d)) ||
		    (k == 1 && setting(file, line, "max-ttl", w[i + 1], 1, LEARN_MAX_TTL_MAX,
				       &s.max_ttl_s, d)) ||
		    (k == 2 && setting(file, line, "max-addresses", w[i + 1], 1, LEARN_ADDRS_MAX,
				       &s.max_addrs, d)) ||
		    (k == 3 &&
		     setting(file, line, "rate", w[i + 1], 1, LEARN_RATE_MAX, &s.rate, d)))
			return -EINVAL;
	}
	s.file = profile_intern_file(p, file);
	if (!s.file)
		return -ENOMEM;
	p->learn = s;
	return 0;
}

static bool same_tool(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

int learn_rules_check(const struct profile *p, struct diag *d)
{
	size_t names = 0, ports = 0;
	int err = 0;

	if (p->learn.file && !p->nr_name_rules) {
		diag_error(d, p->learn.file, p->learn.line,
			   "'dns learn' sets how name rules learn, and there are none");
		err = -EINVAL;
	}
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const struct name_rule *b = &p->name_rules[i];
		bool first = true;

		ports += b->port_hi - b->port_lo + 1;
		for (size_t j = 0; j < i; j++) {
			const struct name_rule *a = &p->name_rules[j];

			first &= strcmp(a->host, b->host) != 0;
			if (a->l4proto != b->l4proto || strcmp(a->host, b->host) ||
			    !same_tool(a->o.tool, b->o.tool) || b->port_lo > a->port_hi ||
			    a->port_lo > b->port_hi)
				continue;
			diag_error(d, b->o.file, b->o.line, "%s %s:%d ('%s')",
				   a->port_lo == b->port_lo && a->port_hi == b->port_hi ?
					   "duplicate of" :
					   "ports overlap",
				   a->o.file, a->o.line, a->o.text);
			err = -EINVAL;
			break;
		}
		names += first;
		if (names > LEARN_NAMES_MAX) {
			diag_error(d, b->o.file, b->o.line, "more than %d host names follow DNS",
				   LEARN_NAMES_MAX);
			return -E2BIG;
		}
		if (ports > LEARN_PORTS_MAX) {
			diag_error(d, b->o.file, b->o.line,
				   "name rules cover more than %d ports in all: narrow the ranges",
				   LEARN_PORTS_MAX);
			return -E2BIG;
		}
	}
	/* names per {protocol, port, tool}: what one learn_rules entry holds */
	for (size_t i = 0; !err && i < p->nr_name_rules; i++) {
		const struct name_rule *b = &p->name_rules[i];

		for (__u32 port = b->port_lo; port <= b->port_hi; port++) {
			size_t same = 0;

			for (size_t j = 0; j <= i; j++) {
				const struct name_rule *a = &p->name_rules[j];

				same += a->l4proto == b->l4proto &&
					same_tool(a->o.tool, b->o.tool) && a->port_lo <= port &&
					port <= a->port_hi;
			}
			if (same > LEARN_NAMES_PER_PORT) {
				diag_error(d, b->o.file, b->o.line,
					   "more than %d name rules for %s port %u%s%s",
					   LEARN_NAMES_PER_PORT, l4proto_name(b->l4proto), port,
					   b->o.tool ? " and tool " : "",
					   b->o.tool ? b->o.tool : "");
				return -E2BIG;
			}
		}
	}
	return err;
}

struct learn_config learn_config_of(const struct profile *p)
{
	struct learn_config c = { LEARN_DEFAULT_GRACE, LEARN_DEFAULT_MAX_TTL,
				  LEARN_DEFAULT_MAX_ADDRS, LEARN_DEFAULT_RATE };

	if (p->learn.file) {
		c.grace_s = p->learn.grace_s;
		c.max_ttl_s = p->learn.max_ttl_s;
		c.max_addrs = p->learn.max_addrs;
		c.rate = p->learn.rate;
	}
	return c;
}

size_t learn_rule_id(const struct profile *p, size_t i)
{
	return p->nr_rules + p->nr_dns_names + i;
}

int learn_host_key(const char *host, __u8 *out, size_t max)
{
	struct dns_name_rule r = { .name = (char *)host };

	return dns_name_key_bytes(&r, out, max);
}

int learn_key_host(const __u8 *key, size_t len, char *out, size_t max)
{
	size_t o = 0, pos = 0, starts[DNS_WIRE_NAME_MAX], n = 0;

	/* the labels come from the right: find them, then write them from the left */
	while (pos < len && key[pos]) {
		if (n == DNS_WIRE_NAME_MAX || pos + 1 + key[pos] > len)
			return -EINVAL;
		/* a '.' or NUL in a label would read as another name */
		if (memchr(key + pos + 1, '.', key[pos]) || memchr(key + pos + 1, '\0', key[pos]))
			return -EINVAL;
		starts[n++] = pos;
		pos += 1 + key[pos];
	}
	if (pos >= len || n == 0)
		return -EINVAL;
	while (n--) {
		size_t l = key[starts[n]];

		if (o + l + 2 > max)
			return -ENAMETOOLONG;
		memcpy(out + o, key + starts[n] + 1, l);
		o += l;
		out[o++] = n ? '.' : '\0';
	}
	return 0;
}

void learn_rules_print(const struct profile *p, FILE *out)
{
	struct learn_config c = learn_config_of(p);

	if (!p->nr_name_rules)
		return;
	fprintf(out, "host names that follow DNS (answers learned at host-side tc):\n");
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		fputs("  ", out);
		text_plain(out, p->name_rules[i].o.file);
		fprintf(out, ":%d: %s\n", p->name_rules[i].o.line, p->name_rules[i].o.text);
	}
	fprintf(out, "  grace %u s, max-ttl %u s, max-addresses %u, rate %u a second%s\n",
		c.grace_s, c.max_ttl_s, c.max_addrs, c.rate,
		p->learn.file ? "" : " (the defaults)");
}

void learn_rules_free(struct profile *p)
{
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		free(p->name_rules[i].host);
		rule_origin_free(&p->name_rules[i].o);
	}
	free(p->name_rules);
	p->name_rules = NULL;
	p->nr_name_rules = 0;
}
