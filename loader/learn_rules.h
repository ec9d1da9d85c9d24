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
/* a host's key in learn_names (dns_policy.h form, with the root's 0 byte); bytes or -errno */
int learn_host_key(const char *host, __u8 *out, size_t max);
/* the key's name as text ("log-collector.internal.corp"); -EINVAL when it is no exact name */
int learn_key_host(const __u8 *key, size_t len, char *out, size_t max);
/* for check: the name rules and the settings */
void learn_rules_print(const struct profile *p, FILE *out);
void learn_rules_free(struct profile *p);

#endif
