/* profile.c: a profile directory (rules.d/) read and validated into plain structs. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lines.h"
#include "profile.h"
#include "dns_names.h"
#include "learn_rules.h"
#include "trusted.h"

#define MAX_WORDS 16

static int resolve_getaddrinfo(const char *name, struct addr *out, int max, void *ctx)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int n = 0, err;

	(void)ctx;
	err = getaddrinfo(name, NULL, &hints, &res);
	if (err)
		return err == EAI_MEMORY ? -ENOMEM : -ENOENT;
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		struct addr a = {};
		bool dup = false;

		if (ai->ai_family == AF_INET) {
			a.family = AF_INET;
			a.plen = 32;
			memcpy(a.bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a.family = AF_INET6;
			a.plen = 128;
			memcpy(a.bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (int i = 0; i < n; i++)
			dup |= addr_equal(&out[i], &a);
		if (!dup)
			out[n++] = a;
	}
	freeaddrinfo(res);
	return n ? n : -ENOENT;
}

static bool is_host_name(const char *s)
{
	size_t label = 0, len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static struct rule *rule_append(struct profile *p)
{
	if (p->nr_rules == p->cap_rules) {
		size_t cap = p->cap_rules ? p->cap_rules * 2 : 64;
		struct rule *r = realloc(p->rules, cap * sizeof(*r));

		if (!r)
			return NULL;
		p->rules = r;
		p->cap_rules = cap;
	}
	memset(&p->rules[p->nr_rules], 0, sizeof(struct rule));
	return &p->rules[p->nr_rules++];
}

static int split_words(char *s, char **w)
{
	int n = 0;

	for (char *tok = strtok(s, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
		if (n == MAX_WORDS)
			return -E2BIG;
		w[n++] = tok;
	}
	return n;
}

/* the destination's addresses (*from_name: a host name's), their number, or -errno */
static int parse_dest(const char *file, int line, const char *word, const struct profile_opts *o,
		      struct addr *out, bool *from_name, struct diag *d)
{
	resolve_fn resolve = o && o->resolve ? o->resolve : resolve_getaddrinfo;
	void *ctx = o ? o->resolve_ctx : NULL;
	int err = addr_parse(word, out);

	*from_name = false;
	if (!err)
		return 1;
	if (err == -ERANGE) {
		diag_error(d, file, line,
			   "prefix length too long in '%s' (IPv4 takes /0-/32, IPv6 /0-/128)",
			   word);
		return -EINVAL;
	}
	if (err == -EDOM) {
		diag_error(d, file, line, "'%s' has bits set beyond its prefix length", word);
		return -EINVAL;
	}
	/* "any" is a typo, not a name to look up: a host name has a dot inside */
	if (strchr(word, '/') || strchr(word, ':') || !is_host_name(word) ||
	    strspn(word, "0123456789.") == strlen(word) || !strchr(word, '.') ||
	    strchr(word, '.') == word + strlen(word) - 1) {
		diag_error(d, file, line,
			   "bad destination '%s': expected an address (10.0.0.1), a prefix "
			   "(10.0.0.0/8) or a host name (host.example)%s",
			   word,
			   !strcasecmp(word, "any") || !strcasecmp(word, "all") ||
					   !strcmp(word, "*") ?
				   "; there is no wildcard destination" :
				   "");
		return -EINVAL;
	}
	err = resolve(word, out, RULE_MAX_ADDRS, ctx);
	if (err <= 0) {
		diag_error(d, file, line, "host name '%s' does not resolve", word);
		return -EINVAL;
	}
	*from_name = true;
	return err;
}

/*
 * A rule for a destination no judged traffic has: a warning, the rule is kept. IPv4-mapped
 * IPv6 addresses go out as IPv4 (connect6 judges them as IPv4, tc denies an IPv6 packet to
 * one); loopback and unspecified destinations never leave the sandbox (the cgroup hooks
 * allow them as local, tc on its link never sees them).
 */
static void warn_never_matches(struct diag *d, const char *file, int line, const struct addr *a,
			       const char *host)
{
	char buf[ADDR_STR_LEN], v4buf[ADDR_STR_LEN], from[300] = "";
	struct addr v4;

	/* most destinations: nothing to say, and nothing formatted (1M rules, 1M addresses) */
	if (!addr_is_mapped4(a, &v4) && !addr_is_loopback(a) && !addr_is_unspecified(a))
		return;
	if (host)
		snprintf(from, sizeof(from), " (from host name %s)", host);
	addr_format(a, buf, sizeof(buf));
	if (addr_is_mapped4(a, &v4))
		diag_warn(d, file, line,
			  "IPv4-mapped IPv6 destination '%s'%s never matches: traffic to it is "
			  "IPv4 and judged as IPv4; write %s",
			  buf, from, addr_format(&v4, v4buf, sizeof(v4buf)));
	else if (addr_is_loopback(a))
		diag_warn(
			d, file, line,
			"loopback destination '%s'%s never matches: loopback traffic never "
			"reaches tc on the sandbox's link, and the cgroup hooks allow it as local",
			buf, from);
	else if (addr_is_unspecified(a))
		diag_warn(d, file, line,
			  "destination '%s'%s never matches: the unspecified address is sent to "
			  "loopback, which the cgroup hooks allow as local",
			  buf, from);
}

/* audit stage NAME | audit tool NAME */
static int parse_audit(struct profile *p, const char *file, int line, char **w, int n,
		       struct diag *d)
{
	struct audit_line *a;
	bool tool;

	if (n < 2 || (strcmp(w[1], "stage") && strcmp(w[1], "tool"))) {
		diag_error(d, file, line, "expected 'stage' or 'tool' after 'audit'");
		return -EINVAL;
	}
	tool = w[1][0] == 't';
	if (n < 3) {
		diag_error(d, file, line, "missing %s name after 'audit %s'", w[1], w[1]);
		return -EINVAL;
	}
	if (n > 3) {
		diag_error(d, file, line, "unknown word '%s'", w[3]);
		return -EINVAL;
	}
	if (tool ? !tool_name_valid(w[2]) :
		   strspn(w[2], "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(w[2])) {
		diag_error(d, file, line, "bad %s name '%s'", w[1], w[2]);
		return -EINVAL;
	}
	a = realloc(p->audits, (p->nr_audits + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->audits = a;
	a = &p->audits[p->nr_audits];
	memset(a, 0, sizeof(*a));
	a->tool = tool;
	a->name = strdup(w[2]);
	a->file = profile_intern_file(p, file);
	a->line = line;
	if (!a->name || !a->file) {
		free(a->name);
		return -ENOMEM;
	}
	p->nr_audits++;
	return 0;
}

int profile_parse_line(struct profile *p, const char *file, int line, const char *text,
		       const struct profile_opts *o, struct diag *d)
{
	struct addr addrs[RULE_MAX_ADDRS];
	char *copy, *hash, *w[MAX_WORDS], *clean, *put, small[512];
	size_t len = strlen(text);
	__u16 lo = 0, hi = 0;
	__u8 proto;
	bool from_name;
	const char *tool;
	int n, t, naddr, err = -EINVAL;

	/* the line split in place, and its words joined again: no allocation for most lines */
	copy = 2 * (len + 1) <= sizeof(small) ? small : malloc(2 * (len + 1));
	if (!copy)
		return -ENOMEM;
	clean = copy + len + 1;
	memcpy(copy, text, len + 1);
	hash = strchr(copy, '#');
	if (hash)
		*hash = '\0';
	n = split_words(copy, w);
	if (n == 0) {
		err = 0;
		goto out;
	}
	if (n < 0) {
		diag_error(d, file, line, "too many words");
		goto out;
	}
	if (!strcmp(w[0], "audit")) {
		err = parse_audit(p, file, line, w, n, d);
		goto out;
	}
	if (!strcmp(w[0], "dns") && n >= 2 && !strcmp(w[1], "learn")) {
		err = learn_parse_settings(p, file, line, w, n, d);
		goto out;
	}
	if (!strcmp(w[0], "allow") && n >= 3 && (!strcmp(w[1], "tcp") || !strcmp(w[1], "udp")) &&
	    !strcmp(w[2], "name")) {
		err = learn_parse_rule(p, file, line, w, n, d);
		goto out;
	}
	if (!strcmp(w[0], "dns") || (!strcmp(w[0], "allow") && n >= 2 && !strcmp(w[1], "dns"))) {
		err = dns_parse_words(p, file, line, w, n, d);
		goto out;
	}
	if (strcmp(w[0], "allow")) {
		diag_error(d, file, line,
			   "unknown word '%s' (a line starts with 'allow', 'audit' or 'dns')",
			   w[0]);
		goto out;
	}
	if (n < 2 || (strcmp(w[1], "tcp") && strcmp(w[1], "udp"))) {
		diag_error(d, file, line, "expected 'tcp', 'udp' or 'dns' after 'allow'%s%s%s",
			   n < 2 ? "" : ", got '", n < 2 ? "" : w[1], n < 2 ? "" : "'");
		goto out;
	}
	proto = w[1][0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
	if (n < 3) {
		diag_error(d, file, line, "missing destination after '%s'", w[1]);
		goto out;
	}
	/* [port P[-P]|any]: without it, every port */
	t = 3;
	lo = 0;
	hi = 65535;
	if (n > 3 && !strcmp(w[3], "port")) {
		if (n == 4) {
			diag_error(d, file, line, "missing port after 'port' (P, P-P or any)");
			goto out;
		}
		t = 5;
		switch (strcmp(w[4], "any") ? port_range_parse(w[4], &lo, &hi) : 0) {
		case 0:
			break;
		case -ERANGE:
			diag_error(d, file, line, "port '%s' out of range (1-65535)", w[4]);
			goto out;
		case -EDOM:
			diag_error(d, file, line, "reversed port range '%s'", w[4]);
			goto out;
		default:
			diag_error(d, file, line, "bad port '%s' (P, P-P or any)", w[4]);
			goto out;
		}
	}
	for (int i = t; i < n; i++)
		if (!strcmp(w[i], "sni")) {
			diag_error(d, file, line,
				   "'sni' belongs to name rules ('allow tcp name HOST port 443 sni "
				   "off'): a rule by address allows any TLS server name");
			goto out;
		}
	if (n > t && strcmp(w[t], "tool")) {
		diag_error(d, file, line, "unknown word '%s' (expected %s'tool')", w[t],
			   t == 3 ? "'port' or " : "");
		goto out;
	}
	if (n == t + 1) {
		diag_error(d, file, line, "missing tool name after 'tool'");
		goto out;
	}
	if (n > t + 1 && !tool_name_valid(w[t + 1])) {
		diag_error(d, file, line,
			   "bad tool '%s': a tool is a cgroup directory right below the sandbox's "
			   "cgroup; give its name, not a path",
			   w[t + 1]);
		goto out;
	}
	if (n > t + 2) {
		diag_error(d, file, line, "unknown word '%s'", w[t + 2]);
		goto out;
	}
	tool = n > t + 1 ? w[t + 1] : NULL;
	naddr = parse_dest(file, line, w[2], o, addrs, &from_name, d);
	if (naddr < 0)
		goto out;
	if (from_name) {
		char list[512] = "", buf[ADDR_STR_LEN];

		for (int i = 0; i < naddr; i++) {
			if (i)
				strncat(list, " ", sizeof(list) - strlen(list) - 1);
			strncat(list, addr_format(&addrs[i], buf, sizeof(buf)),
				sizeof(list) - strlen(list) - 1);
		}
		diag_warn(d, file, line, "host name '%s' resolved once, now: %s", w[2], list);
	}
	for (int i = 0; i < naddr; i++)
		warn_never_matches(d, file, line, &addrs[i], from_name ? w[2] : NULL);
	/* tidy the kept text: words joined by one space */
	put = clean;
	for (int i = 0; i < n; i++) {
		size_t wl = strlen(w[i]);

		if (i)
			*put++ = ' ';
		memcpy(put, w[i], wl);
		put += wl;
	}
	*put = '\0';
	for (int i = 0; i < naddr; i++) {
		struct rule *r = rule_append(p);

		if (!r) {
			err = -ENOMEM;
			goto out;
		}
		r->l4proto = proto;
		r->port_lo = lo;
		r->port_hi = hi;
		r->dst = addrs[i];
		r->o.file = profile_intern_file(p, file);
		r->o.line = line;
		r->o.text = strdup(clean);
		r->host = from_name ? strdup(w[2]) : NULL;
		r->o.tool = tool ? strdup(tool) : NULL;
		if (!r->o.file || !r->o.text || (from_name && !r->host) || (tool && !r->o.tool)) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = 0;
out:
	if (copy != small)
		free(copy);
	return err;
}

/*
 * A rule as the duplicate check sorts it: what it is compared by, in the
 * order compared, packed beside its index (only rules of one destination,
 * which are few, are read during the sort: for their tools)
 */
struct dup_key {
	__u8 head[20]; /* l4proto, family, plen, 0, the address's 16 bytes */
	__u16 port_lo, port_hi;
	__u32 rule;
};

static const struct profile *sort_profile;

static const char *rule_tool(const struct profile *p, __u32 rule)
{
	return p->rules[rule].o.tool ? p->rules[rule].o.tool : "";
}

static int dup_key_cmp(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int c = memcmp(x->head, y->head, sizeof(x->head));

	if (c)
		return c;
	c = strcmp(rule_tool(sort_profile, x->rule), rule_tool(sort_profile, y->rule));
	if (c)
		return c;
	if (x->port_lo != y->port_lo)
		return x->port_lo - y->port_lo;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

int profile_check_duplicates(const struct profile *p, struct diag *d)
{
	struct dup_key *keys = malloc((p->nr_rules + 1) * sizeof(*keys));
	int err = 0;

	if (!keys)
		return -ENOMEM;
	if (p->nr_rules > UINT32_MAX) {
		free(keys);
		return -E2BIG;
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct rule *r = &p->rules[i];
		struct dup_key *k = &keys[i];

		k->head[0] = r->l4proto;
		k->head[1] = r->dst.family;
		k->head[2] = r->dst.plen;
		k->head[3] = 0;
		memcpy(k->head + 4, r->dst.bytes, 16);
		k->port_lo = r->port_lo;
		k->port_hi = r->port_hi;
		k->rule = i;
	}
	sort_profile = p;
	qsort(keys, p->nr_rules, sizeof(*keys), dup_key_cmp);
	/* a is the rule reaching furthest among the earlier ones with the same destination */
	for (size_t i = 1, ai = 0; i < p->nr_rules; i++) {
		const struct dup_key *ka = &keys[ai], *kb = &keys[i];
		const struct rule *a, *b, *first, *later;

		if (memcmp(ka->head, kb->head, sizeof(ka->head)) ||
		    strcmp(rule_tool(p, ka->rule), rule_tool(p, kb->rule)) ||
		    kb->port_lo > ka->port_hi) {
			ai = i;
			continue;
		}
		if (kb->port_hi > ka->port_hi)
			ai = i;
		a = first = &p->rules[ka->rule];
		b = later = &p->rules[kb->rule];
		if (a->o.file == b->o.file && a->o.line == b->o.line)
			continue; /* one name resolved to the same address twice */
		if (b < a) {
			first = b;
			later = a;
		}
		if (a->port_lo == b->port_lo && a->port_hi == b->port_hi)
			diag_error(d, later->o.file, later->o.line, "duplicate of %s:%d ('%s')",
				   first->o.file, first->o.line, first->o.text);
		else
			diag_error(d, later->o.file, later->o.line, "ports overlap %s:%d ('%s')",
				   first->o.file, first->o.line, first->o.text);
		err = -EINVAL;
	}
	free(keys);
	return err;
}

static int ends_with(const char *s, const char *sfx)
{
	size_t a = strlen(s), b = strlen(sfx);

	return a > b && !strcmp(s + a - b, sfx);
}

struct read_ctx {
	struct profile *p;
	const struct profile_opts *o;
};

static int read_line(void *ctx, const char *path, int lineno, const char *line, struct diag *d)
{
	struct read_ctx *c = ctx;

	return profile_parse_line(c->p, path, lineno, line, c->o, d);
}

int profile_read_rules(struct profile *p, FILE *f, const char *path, const struct profile_opts *o,
		       struct diag *d)
{
	struct read_ctx c = { p, o };

	return lines_read(f, path, "rules file", read_line, &c, d);
}

static int load_rules_file(struct profile *p, int dirfd, const char *name, const char *path,
			   const struct profile_opts *o, struct diag *d)
{
	int fd = trusted_open(dirfd, name, path, TRUSTED_RULES, d);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	int err;

	if (fd < 0)
		return fd;
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	err = profile_read_rules(p, f, path, o, d);
	fclose(f);
	return err;
}

int profile_check(const struct profile *p, struct diag *d)
{
	int err = profile_check_duplicates(p, d);

	if (!err)
		err = dns_names_check(p, d);
	if (!err)
		err = learn_rules_check(p, d);
	return err;
}

int profile_load_dir(const char *dir, const struct profile_opts *o, struct profile *p,
		     struct diag *d)
{
	struct dirent **names = NULL;
	int n, dirfd, err = 0;

	/* the directory checked is the one read: its files are opened under its fd */
	dirfd = trusted_dir_open(dir, d);
	if (dirfd < 0)
		return dirfd;
	n = scandirat(dirfd, ".", &names, NULL, alphasort);
	if (n < 0) {
		err = -errno;
		diag_error(d, dir, 0, "cannot read profile directory: %s", strerror(-err));
		close(dirfd);
		return err;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *path;
		int e = 0;

		if (name[0] == '.' || (!ends_with(name, ".rules") && !ends_with(name, ".bpf.o")))
			continue;
		if (asprintf(&path, "%s/%s", dir, name) < 0) {
			err = -ENOMEM;
			break;
		}
		if (ends_with(name, ".rules")) {
			e = load_rules_file(p, dirfd, name, path, o, d);
			free(path);
		} else {
			char **sp = realloc(p->stage_paths, (p->nr_stage_paths + 1) * sizeof(*sp));

			if (!sp) {
				free(path);
				e = -ENOMEM;
			} else {
				p->stage_paths = sp;
				sp[p->nr_stage_paths++] = path;
			}
		}
		if (e && !err)
			err = e;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(dirfd);
	if (!err)
		err = profile_check(p, d);
	return err;
}

void profile_free(struct profile *p)
{
	for (size_t i = 0; i < p->nr_rules; i++) {
		free(p->rules[i].host);
		rule_origin_free(&p->rules[i].o);
	}
	dns_names_free(p);
	learn_rules_free(p);
	for (size_t i = 0; i < p->nr_audits; i++)
		free(p->audits[i].name);
	free(p->audits);
	for (size_t i = 0; i < p->nr_stage_paths; i++)
		free(p->stage_paths[i]);
	for (size_t i = 0; i < p->nr_files; i++)
		free(p->files[i]);
	free(p->rules);
	free(p->stage_paths);
	free(p->files);
	memset(p, 0, sizeof(*p));
}
