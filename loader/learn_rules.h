/* learn_rules.h: host names that follow DNS ('allow tcp name HOST ...', 'dns learn ...'): grammar and checks; no BPF. */
#ifndef IRONCLAW_LEARN_RULES_H
#define IRONCLAW_LEARN_RULES_H

#include <stdio.h>
#include "cgroup.h"
#include "learn.h"
#include "rule.h"

/* "allow tcp|udp name ...": w[0..n-1] are its words; 0, or -EINVAL with the error at file:line */
int learn_parse_rule(struct profile *p, const char *file, int line, char **w, int n,
		     struct diag *d);
/* "dns learn ..." */
int learn_parse_settings(struct profile *p, const char *file, int line, char **w, int n,
			 struct diag *d);
/* the name rules against each other and the limits of the learning maps */
int learn_rules_check(const struct profile *p, struct diag *d);
/* the settings in force: the profile's 'dns learn' line, or the defaults */
struct learn_config learn_config_of(const struct profile *p);
/* the rule number of name rule i (after the address rules and the dns names) */
size_t learn_rule_id(const struct profile *p, size_t i);
/* a host's key in learn_names (dns_policy.h form: with the root's 0 byte when exact); bytes or -errno */
int learn_host_key(const char *host, __u8 *out, size_t max);
/* the key's name as text ("log-collector.internal.corp", "*.github.com"); -EINVAL when it is none */
int learn_key_host(const __u8 *key, size_t len, char *out, size_t max);
/*
 * A name rule's host (NAME or *.SUFFIX) covers name (a host, or another
 * rule's host): the same name, or a name below SUFFIX on label boundaries
 * (not SUFFIX itself), or a wildcard whose suffix is SUFFIX or below it.
 */
bool learn_host_covers(const char *pattern, const char *name);
/*
 * The name rule (index in p->name_rules) under which a packet of l4proto to
 * port, from tool (NULL: a rule without 'tool'), is allowed when its
 * address was learned under the followed name of name rule `name` (its
 * host): the most specific rule there that covers that name and learns from
 * its resolvers; -ENOENT when none.
 */
int learn_rule_over(const struct profile *p, size_t name, __u8 l4proto, __u16 port,
		    const char *tool);
/*
 * The followed name a query for host (an exact name, any case) is learned
 * under: the most specific rule host covering it (exact or wildcard, as the
 * learning maps find it), as the index of that host's first name rule; or
 * -ENOENT.
 */
int learn_followed_name(const struct profile *p, const char *host);
/*
 * For the judge: the name rule that allows l4proto to port from tool (NULL:
 * none) once host (an exact name, as a query asks it) resolved: its followed
 * name is the most specific rule host covering it (exact or wildcard, as
 * the learning maps find it), then learn_rule_over for the tool's rules and
 * then the rules of every process. Its index, or -ENOENT.
 */
int learn_rule_covering(const struct profile *p, const char *host, __u8 l4proto, __u16 port,
			const char *tool);
/* the rule allows tcp/443, where the https stage checks TLS server names (docs/sni.md) */
bool learn_rule_on_https(const struct name_rule *r);
/* a name rule on udp/443: QUIC, whose server name is encrypted (docs/sni.md, "QUIC") */
bool learn_rule_on_quic(const struct name_rule *r);
/* some name rule on tcp/443 has no 'sni off': the generation checks server names (GEN_SNI) */
bool learn_sni_checked(const struct profile *p);
/* for check: the name rules and the settings */
void learn_rules_print(const struct profile *p, FILE *out);
void learn_rules_free(struct profile *p);

#endif
