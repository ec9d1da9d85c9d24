/* rule.h: the lines a profile holds, of every kind, and the profile that collects them. */
#ifndef IRONCLAW_RULE_H
#define IRONCLAW_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"

#define RULE_MAX_ADDRS 16 /* addresses one host name may resolve to */

/* where a line of any kind came from, and the tool it is for: every rule kind has one */
struct rule_origin {
	const char *file; /* owned by the profile */
	int line;
	char *text; /* the line as written, without comment */
	char *tool; /* the tool (cgroup directory below the sandbox's) it is for, or NULL */
	__u64 tool_id; /* that cgroup's id, filled at install; 0 = every process */
};

/*
 * "allow tcp|udp ADDR[/LEN]|HOST [port P[-P]|any] [tool T]": a destination,
 * one rule per address; without a port (or 'port any') every port of it
 */
struct rule {
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 port_lo, port_hi; /* host order, inclusive; 0-65535: every port (rule_all_ports) */
	struct addr dst;
	char *host; /* the host name it was resolved from, or NULL */
	struct rule_origin o;
};

/* a rule for every port of its destination: no port given, or 'port any' */
static inline bool rule_all_ports(const struct rule *r)
{
	return r->port_lo == 0;
}

/* resolves a host name; returns the number of addresses or -errno */
typedef int (*resolve_fn)(const char *name, struct addr *out, int max, void *ctx);

struct profile_opts {
	resolve_fn resolve; /* NULL: getaddrinfo() */
	void *resolve_ctx;
};

/* "audit stage NAME" / "audit tool NAME": denials there pass, recorded as would-deny */
struct audit_line {
	bool tool; /* else a stage */
	char *name;
	const char *file;
	int line;
	__u64 tool_id; /* filled at install */
};

/* "allow dns NAME|*.SUFFIX|* [tool T]": a query name the DNS stage lets through */
struct dns_name_rule {
	char *name; /* lowercase, no trailing dot; for a wildcard its suffix ("" for '*') */
	bool wildcard;
	struct rule_origin o;
};

/*
 * "allow tcp|udp name HOST|*.SUFFIX port P[-P] [via RESOLVER] [tool T]": the
 * addresses DNS answers give for HOST (for any name below SUFFIX)
 */
struct name_rule {
	__u8 l4proto;
	__u16 port_lo, port_hi; /* host order, inclusive */
	char *host; /* lowercase, no trailing dot; a wildcard as "*.SUFFIX" */
	bool wildcard;
	bool has_via; /* only the resolver via teaches it */
	bool sni_off; /* 'sni off': tcp/443 to its addresses with any TLS server name (docs/sni.md) */
	struct addr via;
	struct rule_origin o;
};

/* "dns learn [grace S] [max-ttl S] [max-addresses N] [max-total N] [rate N] [via RESOLVER]" */
struct learn_settings {
	__u32 grace_s, max_ttl_s, max_addrs, rate, max_total;
	bool has_via; /* name rules without their own 'via' learn from this resolver only */
	struct addr via;
	const char *file; /* NULL: no such line, the defaults */
	int line;
};

struct str_block;

struct profile {
	struct rule *rules; /* bigmem.h */
	size_t nr_rules, cap_rules;
	struct str_block *strs; /* the rules' text, host and tool strings */
	struct dns_name_rule *dns_names; /* counted as rules nr_rules, nr_rules + 1, ... */
	size_t nr_dns_names;
	__u16 *dns_qtypes; /* from a 'dns qtype' line; NULL: the default set */
	size_t nr_dns_qtypes;
	const char *dns_qtype_file;
	int dns_qtype_line;
	struct name_rule *name_rules; /* counted after the dns names */
	size_t nr_name_rules;
	struct learn_settings learn;
	struct audit_line *audits;
	size_t nr_audits;
	char **stage_paths; /* NN-name.bpf.o files, in name order */
	size_t nr_stage_paths;
	char **files; /* every file name rules point to */
	size_t nr_files;
};

/*
 * The origin of rule number id: the address rules, then the 'allow dns'
 * lines, then the name rules (the order of their counters); NULL past them.
 */
struct rule_origin *profile_origin(const struct profile *p, size_t id);
size_t profile_nr_origins(const struct profile *p);
/*
 * Some rule or audit line names a tool: the generation must look the
 * sender's tool up (GEN_HAS_TOOLS), "audit tool T" as much as a rule for T.
 */
bool profile_names_tools(const struct profile *p);
/* the same tool (both NULL: every process) */
bool rule_origin_same_tool(const struct rule_origin *a, const struct rule_origin *b);
void rule_origin_free(struct rule_origin *o);

/* keeps a copy of a file name for rules to point to */
const char *profile_intern_file(struct profile *p, const char *name);
const char *l4proto_name(__u8 proto);
/* a tool name is one cgroup directory name: no '/', not '.' or '..' */
int tool_name_valid(const char *name);

#endif
