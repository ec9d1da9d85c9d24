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

/* a host name as text: one name, or *.SUFFIX; NULL when fine */
static const char *host_problem(const char *s)
{
	if (!*s)
		return "empty";
	if (!strcmp(s, "*"))
		return "a name rule follows the names below a suffix ('*.SUFFIX'), not every name";
	if (!strcmp(s, "*."))
		return "no suffix after '*.'";
	if (!strncmp(s, "*.", 2))
		s += 2;
	if (strchr(s, '*'))
		return "'*' is only a whole first label ('*.SUFFIX')";
	if (!strcmp(s, "."))
		return "'.' is the root: a name rule follows names below a suffix";
	return dns_rule_name_problem(s);
}

/* a resolver's address for 'via': one address */
static int parse_via(const char *file, int line, const char *word, struct addr *out, struct diag *d)
{
	if (addr_parse(word, out) || !addr_is_single(out)) {
		diag_error(d, file, line,
			   "bad resolver '%s' after 'via': one address of an 'allow udp ADDRESS "
			   "port 53' line",
			   word);
		return -EINVAL;
	}
	return 0;
}

/*
 * 'sni off' (docs/sni.md): only where there is a check to turn off, a TCP
 * rule whose ports hold 443
 */
static int parse_sni(const char *file, int line, const struct name_rule *r, const char *port,
		     const char *word, struct diag *d)
{
	if (strcmp(word, "off")) {
		diag_error(d, file, line,
			   "expected 'sni off', got 'sni %s' (the server name is checked unless "
			   "a rule says 'sni off')",
			   word);
		return -EINVAL;
	}
	if (!learn_rule_on_https(r)) {
		diag_error(d, file, line,
			   "'sni off' on %s port %s: the TLS server name is checked on tcp/443 "
			   "only, so this rule has no check to turn off",
			   l4proto_name(r->l4proto), port);
		return -EINVAL;
	}
	return 0;
}

/* allow tcp|udp name HOST port P[-P] [via RESOLVER] [tool T] [sni off] */
int learn_parse_rule(struct profile *p, const char *file, int line, char **w, int n, struct diag *d)
{
	struct name_rule r = {}, *grown;
	const char *why, *tool = NULL, *via = NULL, *sni = NULL;
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
	for (int i = 6; i < n; i += 2) {
		const char **slot = !strcmp(w[i], "tool") ? &tool :
				    !strcmp(w[i], "via")  ? &via :
				    !strcmp(w[i], "sni")  ? &sni :
							    NULL;

		if (!slot) {
			diag_error(d, file, line,
				   "unknown word '%s' (expected 'via', 'tool' or 'sni off')", w[i]);
			return -EINVAL;
		}
		if (*slot) {
			diag_error(d, file, line, "'%s' given twice", w[i]);
			return -EINVAL;
		}
		if (i + 1 >= n) {
			diag_error(d, file, line, "missing %s after '%s'",
				   slot == &tool ? "tool name" :
				   slot == &sni	 ? "'off'" :
						   "resolver address",
				   w[i]);
			return -EINVAL;
		}
		*slot = w[i + 1];
	}
	if (tool && !tool_name_valid(tool)) {
		diag_error(d, file, line,
			   "bad tool '%s': a tool is a cgroup directory right below the sandbox's "
			   "cgroup; give its name, not a path",
			   tool);
		return -EINVAL;
	}
	if (via && parse_via(file, line, via, &r.via, d))
		return -EINVAL;
	if (sni && parse_sni(file, line, &r, w[5], sni, d))
		return -EINVAL;
	r.sni_off = sni != NULL;
	r.has_via = via != NULL;
	r.host = strdup(w[3]);
	if (!r.host)
		return -ENOMEM;
	for (char *c = r.host; *c; c++)
		*c = tolower((unsigned char)*c);
	len = strlen(r.host);
	if (len > 1 && r.host[len - 1] == '.' && strcmp(r.host, "*."))
		r.host[--len] = '\0'; /* "corp." is "corp" */
	why = host_problem(r.host);
	if (!why && strspn(r.host, "0123456789.") == len)
		why = "an address, not a host name (write 'allow tcp ADDRESS port ...')";
	if (why) {
		diag_error(d, file, line, "bad host name '%s': %s", w[3], why);
		free(r.host);
		return -EINVAL;
	}
	r.wildcard = !strncmp(r.host, "*.", 2);
	r.o.tool = tool ? strdup(tool) : NULL;
	r.o.file = profile_intern_file(p, file);
	r.o.line = line;
	if (asprintf(&r.o.text, "allow %s name %s port %s%s%s%s%s%s", w[1], r.host, w[5],
		     via ? " via " : "", via ? via : "", tool ? " tool " : "", tool ? tool : "",
		     sni ? " sni off" : "") < 0)
		r.o.text = NULL;
	grown = realloc(p->name_rules, (p->nr_name_rules + 1) * sizeof(*grown));
	if (!r.o.text || (tool && !r.o.tool) || !r.o.file || !grown) {
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

/* dns learn [grace S] [max-ttl S] [max-addresses N] [max-total N] [rate N] [via RESOLVER] */
int learn_parse_settings(struct profile *p, const char *file, int line, char **w, int n,
			 struct diag *d)
{
	static const char *const keys[] = { "grace", "max-ttl",	  "max-addresses",
					    "rate",  "max-total", "via" };
	static const long max[] = { LEARN_GRACE_MAX, LEARN_MAX_TTL_MAX, LEARN_ADDRS_MAX,
				    LEARN_RATE_MAX, LEARN_TOTAL_MAX };
	struct learn_settings s = { .grace_s = LEARN_DEFAULT_GRACE,
				    .max_ttl_s = LEARN_DEFAULT_MAX_TTL,
				    .max_addrs = LEARN_DEFAULT_MAX_ADDRS,
				    .rate = LEARN_DEFAULT_RATE,
				    .max_total = LEARN_DEFAULT_MAX_TOTAL,
				    .line = line };
	__u32 *out[] = { &s.grace_s, &s.max_ttl_s, &s.max_addrs, &s.rate, &s.max_total };
	unsigned int seen = 0;
	const int nkeys = sizeof(keys) / sizeof(keys[0]);

	if (p->learn.file) {
		diag_error(d, file, line, "learning already set at %s:%d", p->learn.file,
			   p->learn.line);
		return -EINVAL;
	}
	if (n < 3) {
		diag_error(d, file, line,
			   "missing settings after 'dns learn' (grace S, max-ttl S, max-addresses "
			   "N, max-total N, rate N, via RESOLVER)");
		return -EINVAL;
	}
	for (int i = 2; i < n; i += 2) {
		int k;

		for (k = 0; k < nkeys && strcmp(w[i], keys[k]); k++)
			;
		if (k == nkeys) {
			diag_error(d, file, line,
				   "unknown word '%s' (expected grace, max-ttl, max-addresses, "
				   "max-total, rate or via)",
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
		if (!strcmp(keys[k], "via")) {
			if (parse_via(file, line, w[i + 1], &s.via, d))
				return -EINVAL;
			s.has_via = true;
		} else if (setting(file, line, keys[k], w[i + 1], k == 0 ? 0 : 1, max[k], out[k],
				   d)) {
			return -EINVAL;
		}
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

bool learn_host_covers(const char *pattern, const char *name)
{
	const char *suffix = pattern + 2, *below = name;
	size_t ls, ln;

	if (strncmp(pattern, "*.", 2))
		return !strcmp(pattern, name);
	if (!strncmp(name, "*.", 2)) {
		below = name + 2;
		if (!strcmp(below, suffix))
			return true; /* the same wildcard */
	}
	ls = strlen(suffix);
	ln = strlen(below);
	return ln > ls + 1 && below[ln - ls - 1] == '.' && !strcmp(below + ln - ls, suffix);
}

/* the resolver a rule learns from: its own 'via', the profile's, or NULL (any) */
static const struct addr *rule_via(const struct profile *p, const struct name_rule *r)
{
	return r->has_via ? &r->via : p->learn.has_via ? &p->learn.via : NULL;
}

/* rule w may be counted for addresses learned under name x: the same resolvers, or any */
static bool via_covers(const struct profile *p, const struct name_rule *w,
		       const struct name_rule *x)
{
	const struct addr *a = rule_via(p, w), *b = rule_via(p, x);

	return !a || (b && addr_equal(a, b));
}

/* the first rule of each followed name is its representative (its id, its resolvers) */
static bool first_of_host(const struct profile *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p->name_rules[j].host, p->name_rules[i].host))
			return false;
	return true;
}

/* the most specific followed name over host (an exact name): its first rule, or -ENOENT */
static int followed_name(const struct profile *p, const char *host)
{
	int best = -ENOENT;

	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const struct name_rule *r = &p->name_rules[i];

		if (!first_of_host(p, i) || !learn_host_covers(r->host, host))
			continue;
		if (best < 0 || !r->wildcard ||
		    (p->name_rules[best].wildcard &&
		     strlen(r->host) > strlen(p->name_rules[best].host)))
			best = i;
	}
	return best;
}

int learn_rule_over(const struct profile *p, size_t name, __u8 l4proto, __u16 port,
		    const char *tool)
{
	const struct name_rule *x = &p->name_rules[name];
	int best = -ENOENT;

	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const struct name_rule *r = &p->name_rules[i];

		if (r->l4proto != l4proto || port < r->port_lo || port > r->port_hi ||
		    strcmp(r->o.tool ? r->o.tool : "", tool ? tool : "") ||
		    !learn_host_covers(r->host, x->host) || !via_covers(p, r, x))
			continue;
		/* exact before wildcard, then the longer suffix; the first rule of equals */
		if (best < 0 || (!r->wildcard && p->name_rules[best].wildcard) ||
		    (r->wildcard && p->name_rules[best].wildcard &&
		     strlen(r->host) > strlen(p->name_rules[best].host)))
			best = i;
	}
	return best;
}

int learn_followed_name(const struct profile *p, const char *host)
{
	char *h = strdup(host);
	size_t len;
	int x;

	if (!h)
		return -ENOMEM;
	for (char *c = h; *c; c++)
		*c = tolower((unsigned char)*c);
	len = strlen(h);
	if (len > 1 && h[len - 1] == '.')
		h[len - 1] = '\0';
	x = followed_name(p, h);
	free(h);
	return x;
}

int learn_rule_covering(const struct profile *p, const char *host, __u8 l4proto, __u16 port,
			const char *tool)
{
	int x = learn_followed_name(p, host), r = -ENOENT;

	if (x >= 0 && tool)
		r = learn_rule_over(p, x, l4proto, port, tool);
	if (x >= 0 && r < 0)
		r = learn_rule_over(p, x, l4proto, port, NULL);
	return x < 0 ? x : r;
}

/* an address of a resolver: an 'allow udp ADDRESS port 53' line names it */
static bool is_resolver(const struct profile *p, const struct addr *a)
{
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct rule *r = &p->rules[i];

		if (r->l4proto == IPPROTO_UDP && r->port_lo == 53 && r->port_hi == 53 &&
		    addr_is_single(&r->dst) && addr_equal(&r->dst, a))
			return true;
	}
	return false;
}

static int check_via(const struct profile *p, const char *file, int line, const struct addr *a,
		     struct diag *d)
{
	char buf[ADDR_STR_LEN];

	if (is_resolver(p, a))
		return 0;
	diag_error(d, file, line,
		   "'via %s' is no resolver of the profile (no 'allow udp %s port 53' line)",
		   addr_format(a, buf, sizeof(buf)), buf);
	return -EINVAL;
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
	if (p->learn.has_via && check_via(p, p->learn.file, p->learn.line, &p->learn.via, d))
		err = -EINVAL;
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const struct name_rule *b = &p->name_rules[i];
		bool first = true;

		if (b->has_via && check_via(p, b->o.file, b->o.line, &b->via, d))
			err = -EINVAL;
		ports += b->port_hi - b->port_lo + 1;
		for (size_t j = 0; j < i; j++) {
			const struct name_rule *a = &p->name_rules[j];
			const struct addr *va = rule_via(p, a), *vb = rule_via(p, b);

			if (strcmp(a->host, b->host))
				continue;
			first = false;
			if (!va != !vb || (va && !addr_equal(va, vb))) {
				diag_error(d, b->o.file, b->o.line,
					   "'%s' learns from other resolvers than at %s:%d ('%s'): "
					   "give every rule of one name the same 'via'",
					   b->host, a->o.file, a->o.line, a->o.text);
				err = -EINVAL;
				break;
			}
			if (a->l4proto != b->l4proto || !same_tool(a->o.tool, b->o.tool) ||
			    b->port_lo > a->port_hi || a->port_lo > b->port_hi)
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
	/* names per {protocol, port, tool} (a wildcard's and the names below it): one entry */
	for (size_t i = 0; !err && i < p->nr_name_rules; i++) {
		const struct name_rule *b = &p->name_rules[i];

		for (__u32 port = b->port_lo; port <= b->port_hi; port++) {
			size_t same = 0;

			/* the names listed there by this rule and the ones before it */
			for (size_t x = 0; x < p->nr_name_rules; x++) {
				int w;

				if (!first_of_host(p, x))
					continue;
				w = learn_rule_over(p, x, b->l4proto, port, b->o.tool);
				same += w >= 0 && w <= (int)i;
			}
			if (same > LEARN_NAMES_PER_PORT) {
				diag_error(d, b->o.file, b->o.line,
					   "more than %d names for %s port %u%s%s (a wildcard "
					   "counts each followed name below it)",
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
	struct learn_config c = { LEARN_DEFAULT_GRACE,	   LEARN_DEFAULT_MAX_TTL,
				  LEARN_DEFAULT_MAX_ADDRS, LEARN_DEFAULT_RATE,
				  LEARN_DEFAULT_MAX_TOTAL, 0 };

	if (p->learn.file) {
		c.grace_s = p->learn.grace_s;
		c.max_ttl_s = p->learn.max_ttl_s;
		c.max_addrs = p->learn.max_addrs;
		c.rate = p->learn.rate;
		c.max_total = p->learn.max_total;
	}
	return c;
}

size_t learn_rule_id(const struct profile *p, size_t i)
{
	return p->nr_rules + p->nr_dns_names + i;
}

int learn_host_key(const char *host, __u8 *out, size_t max)
{
	bool wildcard = !strncmp(host, "*.", 2);
	struct dns_name_rule r = { .name = (char *)host + (wildcard ? 2 : 0),
				   .wildcard = wildcard };

	return dns_name_key_bytes(&r, out, max);
}

int learn_key_host(const __u8 *key, size_t len, char *out, size_t max)
{
	size_t o = 0, pos = 0, starts[DNS_WIRE_NAME_MAX], n = 0;
	bool wildcard;

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
	if (pos > len || n == 0)
		return -EINVAL;
	wildcard = pos == len; /* no root label: the suffix of *.SUFFIX */
	if (wildcard) {
		if (max < 3)
			return -ENAMETOOLONG;
		memcpy(out, "*.", 2);
		o = 2;
	}
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

bool learn_rule_on_https(const struct name_rule *r)
{
	return r->l4proto == IPPROTO_TCP && r->port_lo <= 443 && r->port_hi >= 443;
}

bool learn_rule_on_quic(const struct name_rule *r)
{
	return r->l4proto == IPPROTO_UDP && r->port_lo <= 443 && r->port_hi >= 443;
}

bool learn_sni_checked(const struct profile *p)
{
	for (size_t i = 0; i < p->nr_name_rules; i++)
		if (learn_rule_on_https(&p->name_rules[i]) && !p->name_rules[i].sni_off)
			return true;
	return false;
}

void learn_rules_print(const struct profile *p, FILE *out)
{
	struct learn_config c = learn_config_of(p);
	char viabuf[ADDR_STR_LEN];

	if (!p->nr_name_rules)
		return;
	fprintf(out, "host names that follow DNS (answers learned at host-side tc):\n");
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		fputs("  ", out);
		text_plain(out, p->name_rules[i].o.file);
		fprintf(out, ":%d: %s%s\n", p->name_rules[i].o.line, p->name_rules[i].o.text,
			learn_rule_on_quic(&p->name_rules[i]) ?
				" (udp/443: QUIC, its server name not checked)" :
			!learn_rule_on_https(&p->name_rules[i]) ? "" :
			p->name_rules[i].sni_off ? " (tcp/443: any TLS server name)" :
						   " (tcp/443: TLS server name checked)");
	}
	fprintf(out,
		"  grace %u s, max-ttl %u s, max-addresses %u, max-total %u, rate %u a second%s%s\n",
		c.grace_s, c.max_ttl_s, c.max_addrs, c.max_total, c.rate,
		p->learn.has_via ? ", via " : "",
		p->learn.has_via ? addr_format(&p->learn.via, viabuf, sizeof(viabuf)) : "");
	if (!p->learn.file)
		fprintf(out, "  (the defaults)\n");
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
