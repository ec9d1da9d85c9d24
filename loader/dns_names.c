/* dns_names.c: 'allow dns' and 'dns qtype' lines: grammar, checks, the names' map keys. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "dns_names.h"
#include "text.h"

static const struct {
	const char *name;
	__u16 type;
} qtype_names[] = {
	{ "A", 1 },	{ "NS", 2 },	  { "CNAME", 5 }, { "SOA", 6 },	   { "PTR", 12 },
	{ "MX", 15 },	{ "TXT", 16 },	  { "AAAA", 28 }, { "SRV", 33 },   { "NAPTR", 35 },
	{ "DS", 43 },	{ "DNSKEY", 48 }, { "SVCB", 64 }, { "HTTPS", 65 }, { "AXFR", 252 },
	{ "ANY", 255 }, { "CAA", 257 },
};

#define NR_QTYPE_NAMES (sizeof(qtype_names) / sizeof(qtype_names[0]))

/* what a query may ask for when the profile does not say */
static const __u16 default_qtypes[] = { 1, 28, 5, 12, 33 }; /* A AAAA CNAME PTR SRV */

int dns_qtype_parse(const char *word)
{
	char *end;
	long v;

	for (size_t i = 0; i < NR_QTYPE_NAMES; i++)
		if (!strcasecmp(word, qtype_names[i].name))
			return qtype_names[i].type;
	/* RFC 3597: TYPEn for a type without a mnemonic */
	if (strncasecmp(word, "TYPE", 4) || !isdigit((unsigned char)word[4]))
		return -EINVAL;
	errno = 0;
	v = strtol(word + 4, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	return v;
}

const char *dns_qtype_text(__u16 qtype, char *buf, size_t len)
{
	for (size_t i = 0; i < NR_QTYPE_NAMES; i++)
		if (qtype_names[i].type == qtype)
			return qtype_names[i].name;
	snprintf(buf, len, "TYPE%u", qtype);
	return buf;
}

size_t dns_qtypes_in_force(const struct profile *p, const __u16 **out)
{
	if (p->dns_qtypes) {
		*out = p->dns_qtypes;
		return p->nr_dns_qtypes;
	}
	*out = default_qtypes;
	return sizeof(default_qtypes) / sizeof(default_qtypes[0]);
}

const char *dns_rule_name_problem(const char *s)
{
	size_t label = 0, len = strlen(s);

	if (len > DNS_RULE_NAME_MAX)
		return "longer than a name rule can hold (242 characters)";
	for (; *s; s++) {
		if (*s == '.') {
			if (!label)
				return "an empty label";
			label = 0;
		} else if (*s == '*') {
			return "'*' is only a whole first label ('*.SUFFIX'), or '*' alone";
		} else if (islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
			   *s == '_') {
			if (++label > DNS_LABEL_MAX)
				return "a label longer than 63 characters";
		} else {
			return "labels are letters, digits, '-' and '_'";
		}
	}
	return label ? NULL : "an empty label";
}

/* allow dns NAME [tool T] */
static int parse_name_rule(struct profile *p, const char *file, int line, char **w, int n,
			   struct diag *d)
{
	struct dns_name_rule r = {}, *grown;
	char *name = NULL, *text = NULL;
	const char *why, *bare;
	bool star_dot;
	size_t len;

	if (n < 3) {
		diag_error(d, file, line, "missing name after 'allow dns'");
		return -EINVAL;
	}
	if (n > 3 && strcmp(w[3], "tool")) {
		diag_error(d, file, line, "unknown word '%s' (expected 'tool')", w[3]);
		return -EINVAL;
	}
	if (n == 4) {
		diag_error(d, file, line, "missing tool name after 'tool'");
		return -EINVAL;
	}
	if (n > 5) {
		diag_error(d, file, line, "unknown word '%s'", w[5]);
		return -EINVAL;
	}
	if (n == 5 && !tool_name_valid(w[4])) {
		diag_error(d, file, line,
			   "bad tool '%s': a tool is a cgroup directory right below the sandbox's "
			   "cgroup; give its name, not a path",
			   w[4]);
		return -EINVAL;
	}
	name = strdup(w[2]);
	if (!name)
		return -ENOMEM;
	for (char *c = name; *c; c++)
		*c = tolower((unsigned char)*c);
	len = strlen(name);
	/* "*." is no '*': its trailing dot is not stripped into one that allows every name */
	star_dot = !strcmp(name, "*.");
	if (len > 1 && name[len - 1] == '.' && !star_dot)
		name[--len] = '\0'; /* "corp." is "corp" */
	r.wildcard = !strcmp(name, "*") || !strncmp(name, "*.", 2);
	bare = r.wildcard ? name + (name[1] ? 2 : 1) : name;
	why = star_dot ? "no suffix after '*.' (write '*' to allow every name)" :
	      r.wildcard && !*bare && name[1] ? "an empty label" :
	      r.wildcard && !*bare	      ? NULL :
	      !strcmp(bare, ".")	      ? "'.' is the root: '*' allows every name" :
						dns_rule_name_problem(bare);
	if (why) {
		diag_error(d, file, line, "bad name '%s': %s", w[2], why);
		free(name);
		return -EINVAL;
	}
	r.name = strdup(bare);
	r.o.tool = n == 5 ? strdup(w[4]) : NULL;
	r.o.file = profile_intern_file(p, file);
	r.o.line = line;
	if (asprintf(&text, "allow dns %s%s%s", name, n == 5 ? " tool " : "", n == 5 ? w[4] : "") <
	    0)
		text = NULL;
	r.o.text = text;
	free(name);
	grown = realloc(p->dns_names, (p->nr_dns_names + 1) * sizeof(*grown));
	if (!r.name || (n == 5 && !r.o.tool) || !r.o.file || !r.o.text || !grown) {
		free(r.name);
		rule_origin_free(&r.o);
		if (grown)
			p->dns_names = grown;
		return -ENOMEM;
	}
	p->dns_names = grown;
	p->dns_names[p->nr_dns_names++] = r;
	return 0;
}

/* dns qtype TYPE... */
static int parse_qtype_line(struct profile *p, const char *file, int line, char **w, int n,
			    struct diag *d)
{
	__u16 *types;

	if (n < 2 || strcmp(w[1], "qtype")) {
		diag_error(d, file, line, "expected 'qtype' or 'learn' after 'dns'");
		return -EINVAL;
	}
	if (n < 3) {
		diag_error(d, file, line, "missing query types after 'dns qtype' (e.g. A AAAA)");
		return -EINVAL;
	}
	if (p->dns_qtypes) {
		diag_error(d, file, line, "query types already set at %s:%d", p->dns_qtype_file,
			   p->dns_qtype_line);
		return -EINVAL;
	}
	if (n - 2 > DNS_QTYPES_MAX) {
		diag_error(d, file, line, "more than %d query types", DNS_QTYPES_MAX);
		return -EINVAL;
	}
	types = calloc(n - 2, sizeof(*types));
	if (!types)
		return -ENOMEM;
	for (int i = 2; i < n; i++) {
		int t = dns_qtype_parse(w[i]);

		for (int j = 2; t >= 0 && j < i; j++)
			if (types[j - 2] == t) {
				diag_error(d, file, line, "query type '%s' given twice", w[i]);
				free(types);
				return -EINVAL;
			}
		if (t < 0) {
			diag_error(d, file, line,
				   "unknown query type '%s' (a mnemonic such as TXT, or TYPEn)",
				   w[i]);
			free(types);
			return -EINVAL;
		}
		types[i - 2] = t;
	}
	p->dns_qtypes = types;
	p->nr_dns_qtypes = n - 2;
	p->dns_qtype_file = profile_intern_file(p, file);
	p->dns_qtype_line = line;
	return p->dns_qtype_file ? 0 : -ENOMEM;
}

int dns_parse_words(struct profile *p, const char *file, int line, char **w, int n, struct diag *d)
{
	if (!strcmp(w[0], "dns"))
		return parse_qtype_line(p, file, line, w, n, d);
	return parse_name_rule(p, file, line, w, n, d);
}

int dns_names_check(const struct profile *p, struct diag *d)
{
	int err = 0;

	if (p->dns_qtypes && !p->nr_dns_names) {
		diag_error(d, p->dns_qtype_file, p->dns_qtype_line,
			   "'dns qtype' applies to queries checked by 'allow dns' lines, and there "
			   "are none (add 'allow dns *' to check every query's type)");
		err = -EINVAL;
	}
	if (p->nr_dns_names > DNS_NAMES_MAX) {
		const struct dns_name_rule *r = &p->dns_names[DNS_NAMES_MAX];

		diag_error(d, r->o.file, r->o.line, "more than %d 'allow dns' lines",
			   DNS_NAMES_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < p->nr_dns_names; i++) {
		const struct dns_name_rule *b = &p->dns_names[i];

		for (size_t j = 0; j < i; j++) {
			const struct dns_name_rule *a = &p->dns_names[j];

			if (a->wildcard != b->wildcard || strcmp(a->name, b->name) ||
			    strcmp(a->o.tool ? a->o.tool : "", b->o.tool ? b->o.tool : ""))
				continue;
			diag_error(d, b->o.file, b->o.line, "duplicate of %s:%d ('%s')", a->o.file,
				   a->o.line, a->o.text);
			err = -EINVAL;
			break;
		}
	}
	return err;
}

int dns_name_key_bytes(const struct dns_name_rule *r, __u8 *out, size_t max)
{
	const char *s = r->name, *end = s + strlen(s);
	size_t o = 0;

	/* labels from the right: find each one's start, going left */
	while (end > s) {
		const char *start = end;
		size_t len;

		while (start > s && start[-1] != '.')
			start--;
		len = end - start;
		if (o + 1 + len > max)
			return -ENAMETOOLONG;
		out[o++] = len;
		memcpy(out + o, start, len);
		o += len;
		end = start > s ? start - 1 : s;
	}
	if (!r->wildcard) {
		if (o + 1 > max)
			return -ENAMETOOLONG;
		out[o++] = 0;
	}
	return o;
}

void dns_names_print(const struct profile *p, FILE *out)
{
	const __u16 *types;
	size_t n;
	char buf[16];

	if (!p->nr_dns_names)
		return;
	fprintf(out, "dns query names (udp/53 queries are parsed, tcp/53 is denied):\n");
	for (size_t i = 0; i < p->nr_dns_names; i++) {
		fputs("  ", out);
		text_plain(out, p->dns_names[i].o.file);
		fprintf(out, ":%d: %s\n", p->dns_names[i].o.line, p->dns_names[i].o.text);
	}
	n = dns_qtypes_in_force(p, &types);
	fprintf(out, "  query types:");
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s", dns_qtype_text(types[i], buf, sizeof(buf)));
	if (p->dns_qtypes) {
		fputs(" (", out);
		text_plain(out, p->dns_qtype_file);
		fprintf(out, ":%d)\n", p->dns_qtype_line);
	} else
		fprintf(out, " (the default)\n");
}

void dns_names_free(struct profile *p)
{
	for (size_t i = 0; i < p->nr_dns_names; i++) {
		free(p->dns_names[i].name);
		rule_origin_free(&p->dns_names[i].o);
	}
	free(p->dns_names);
	free(p->dns_qtypes);
	p->dns_names = NULL;
	p->dns_qtypes = NULL;
	p->nr_dns_names = p->nr_dns_qtypes = 0;
}
