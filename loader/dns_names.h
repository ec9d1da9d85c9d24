/* dns_names.h: 'allow dns' and 'dns qtype' lines: grammar, checks, the names' map keys; no BPF. */
#ifndef IRONCLAW_DNS_NAMES_H
#define IRONCLAW_DNS_NAMES_H

#include <stdio.h>
#include "cgroup.h"
#include "dns_policy.h"
#include "rule.h"

/* the longest name a rule may give: its key (reversed labels and the 0 byte) must fit */
#define DNS_RULE_NAME_MAX (DNS_NAME_KEY_BYTES - 2)

/*
 * One line whose first word is "dns", or "allow dns ...": w[0..n-1] are its
 * words. 0, or -EINVAL with the error at file:line.
 */
int dns_parse_words(struct profile *p, const char *file, int line, char **w, int n, struct diag *d);
/* the profile's name rules against each other: duplicates, too many, 'dns qtype' alone */
int dns_names_check(const struct profile *p, struct diag *d);
/*
 * The rule's name as the dns_names map keys it (include/dns_policy.h): labels
 * from the right, each its length and bytes, and a 0 byte if exact. Bytes
 * written, or -ENAMETOOLONG when max is too small.
 */
int dns_name_key_bytes(const struct dns_name_rule *r, __u8 *out, size_t max);
/* "A", "txt", "TYPE65", ...: the type's number, or -EINVAL */
int dns_qtype_parse(const char *word);
/* the type's mnemonic, or "TYPEn" */
const char *dns_qtype_text(__u16 qtype, char *buf, size_t len);
/* the query types in force: the profile's 'dns qtype' line, or the default set */
size_t dns_qtypes_in_force(const struct profile *p, const __u16 **out);
/* for check: the name rules and the query types */
void dns_names_print(const struct profile *p, FILE *out);
void dns_names_free(struct profile *p);

/*
 * A name as a rule gives it, already lowercase, without a trailing dot:
 * labels of 1-63 letters, digits, '-' and '_', at most DNS_RULE_NAME_MAX
 * characters. NULL when fine, else what is wrong.
 */
const char *dns_rule_name_problem(const char *s);

#endif
