/* rule.h: the lines a profile holds, of every kind, and the profile that collects them. */
#ifndef IRONCLAW_RULE_H
#define IRONCLAW_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"

#define RULE_MAX_ADDRS 16 /* addresses one host name may resolve to */

struct rule {
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 port_lo, port_hi; /* host order, inclusive */
	struct addr dst;
	char *host; /* the host name it was resolved from, or NULL */
	char *tool; /* the tool (cgroup directory below the sandbox's) it is for, or NULL */
	__u64 tool_id; /* that cgroup's id, filled at install; 0 = every process */
	const char *file; /* owned by the profile */
	int line;
	char *text; /* the line as written, without comment */
};

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
	char *tool; /* or NULL */
	__u64 tool_id; /* filled at install; 0 = every process */
	const char *file;
	int line;
	char *text;
};

/* "allow tcp|udp name HOST port P[-P] [tool T]": HOST's addresses as DNS answers give them */
struct name_rule {
	__u8 l4proto;
	__u16 port_lo, port_hi; /* host order, inclusive */
	char *host; /* lowercase, no trailing dot */
	char *tool; /* or NULL */
	__u64 tool_id; /* filled at install; 0 = every process */
	const char *file;
	int line;
	char *text;
};

/* "dns learn [grace S] [max-ttl S] [max-addresses N]" */
struct learn_settings {
	__u32 grace_s, max_ttl_s, max_addrs;
	const char *file; /* NULL: no such line, the defaults */
	int line;
};

struct profile {
	struct rule *rules;
	size_t nr_rules, cap_rules;
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

/* keeps a copy of a file name for rules to point to */
const char *profile_intern_file(struct profile *p, const char *name);
const char *l4proto_name(__u8 proto);
/* a tool name is one cgroup directory name: no '/', not '.' or '..' */
int tool_name_valid(const char *name);

#endif
