/* profile.c: a profile directory (rules.d/) read and validated into plain structs. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bigmem.h"
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

/* the address rules' strings: in blocks freed with their profile, not one allocation each */
struct str_block {
	struct str_block *next;
	size_t used, cap;
	char data[];
};

#define STR_BLOCK_MIN 4096u
#define STR_BLOCK_MAX (4u << 20)

static char *profile_str(struct profile *p, const char *s, size_t len)
{
	struct str_block *b = p->strs;
	char *out;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = b ? b->cap * 2 : STR_BLOCK_MIN;

		if (cap > STR_BLOCK_MAX)
			cap = STR_BLOCK_MAX;
		if (cap < len + 1)
			cap = len + 1;
		b = bigmem_alloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = p->strs;
		b->used = 0;
		b->cap = cap;
		p->strs = b;
	}
	out = b->data + b->used;
	memcpy(out, s, len);
	out[len] = '\0';
	b->used += len + 1;
	return out;
}

static struct rule *rule_append(struct profile *p)
{
	if (p->nr_rules == p->cap_rules) {
		size_t cap = p->cap_rules ? p->cap_rules * 2 : 64;
		struct rule *r = bigmem_realloc(p->rules, cap * sizeof(*r));

		if (!r)
			return NULL;
		p->rules = r;
		p->cap_rules = cap;
	}
	memset(&p->rules[p->nr_rules], 0, sizeof(struct rule));
	return &p->rules[p->nr_rules++];
}

/* one rule of a line: its strings copied into the profile's blocks */
static int rule_add(struct profile *p, const char *file, int line, __u8 proto, __u16 lo, __u16 hi,
		    const struct addr *dst, const char *text, size_t text_len, const char *host,
		    const char *tool)
{
	struct rule *r = rule_append(p);

	if (!r)
		return -ENOMEM;
	r->l4proto = proto;
	r->port_lo = lo;
	r->port_hi = hi;
	r->dst = *dst;
	r->o.file = profile_intern_file(p, file);
	r->o.line = line;
	r->o.text = profile_str(p, text, text_len);
	r->host = host ? profile_str(p, host, strlen(host)) : NULL;
	r->o.tool = tool ? profile_str(p, tool, strlen(tool)) : NULL;
	if (!r->o.file || !r->o.text || (host && !r->host) || (tool && !r->o.tool))
		return -ENOMEM;
	return 0;
}

/* up to max decimal digits at *s (max 5: no overflow), *s moved past them; -1 for none */
static long digits(const char **s, int max)
{
	long v = 0;
	int n = 0;

	while (n < max && **s >= '0' && **s <= '9') {
		v = v * 10 + (*(*s)++ - '0');
		n++;
	}
	return n && !(**s >= '0' && **s <= '9') ? v : -1;
}

/*
 * The common line, read without splitting or copying it: exactly "allow tcp|udp A.B.C.D[/LEN]
 * [port P[-P]|port any]", single spaces, nothing after. Any other line, and any value the
 * general parse would refuse or read differently (a leading zero in an address, a port out of
 * range, bits beyond the prefix), is false: profile_parse_line reads it, and says what is wrong.
 */
static bool parse_plain_v4(const char *s, __u8 *proto, struct addr *a, __u16 *lo, __u16 *hi,
			   size_t *len)
{
	const char *start = s;
	long v, plen = 32;

	if (strncmp(s, "allow ", 6))
		return false;
	s += 6;
	if (!strncmp(s, "tcp ", 4))
		*proto = IPPROTO_TCP;
	else if (!strncmp(s, "udp ", 4))
		*proto = IPPROTO_UDP;
	else
		return false;
	s += 4;
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < 4; i++) {
		const char *d;

		if (i && *s++ != '.')
			return false;
		d = s;
		v = digits(&s, 3);
		/* as inet_pton: 0-255, no leading zero */
		if (v < 0 || v > 255 || (*d == '0' && s - d > 1))
			return false;
		a->bytes[i] = v;
	}
	if (*s == '/') {
		s++;
		plen = digits(&s, 2);
		if (plen < 0 || plen > 32)
			return false;
		if (plen < 32 && (addr_v4_raw(a) & ~htonl(plen ? ~0u << (32 - plen) : 0)))
			return false;
	}
	a->family = AF_INET;
	a->plen = plen;
	*lo = 0;
	*hi = 65535;
	if (!strncmp(s, " port ", 6)) {
		s += 6;
		if (!strncmp(s, "any", 3)) {
			s += 3;
		} else {
			long l = digits(&s, 5), h = l;

			if (*s == '-') {
				s++;
				h = digits(&s, 5);
			}
			if (l < 1 || l > 65535 || h < l || h > 65535)
				return false;
			*lo = l;
			*hi = h;
		}
	}
	*len = s - start;
	return !*s || (s[0] == '\n' && !s[1]);
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
	size_t len;
	__u16 lo = 0, hi = 0;
	__u8 proto;
	bool from_name;
	const char *tool;
	int n, t, naddr, err = -EINVAL;

	if (parse_plain_v4(text, &proto, &addrs[0], &lo, &hi, &len)) {
		warn_never_matches(d, file, line, &addrs[0], NULL);
		return rule_add(p, file, line, proto, lo, hi, &addrs[0], text, len, NULL, NULL);
	}
	len = strlen(text);
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
		err = rule_add(p, file, line, proto, lo, hi, &addrs[i], clean, put - clean,
			       from_name ? w[2] : NULL, tool);
		if (err)
			goto out;
	}
	err = 0;
out:
	if (copy != small)
		free(copy);
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
	while (p->strs) {
		struct str_block *b = p->strs;

		p->strs = b->next;
		bigmem_free(b);
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
	bigmem_free(p->rules);
	free(p->stage_paths);
	free(p->files);
	memset(p, 0, sizeof(*p));
}
