/* dns_maps.c: the DNS stage's shared maps (allowed names, query types) filled per generation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dns_maps.h"
#include "dns_names.h"
#include "map_walk.h"

int dns_maps_fill(int names_fd, int qtypes_fd, __u32 gen, const struct profile *p, struct diag *d)
{
	const __u16 *types;
	size_t nt;
	__u32 one = 1;

	for (size_t i = 0; i < p->nr_dns_names; i++) {
		const struct dns_name_rule *r = &p->dns_names[i];
		struct dns_name_key k = { .gen = gen, .tool = r->o.tool_id };
		struct dns_name_value v = { .rule_id = p->nr_rules + i, .wildcard = r->wildcard };
		int n = dns_name_key_bytes(r, k.name, sizeof(k.name));

		if (n < 0) {
			diag_error(d, r->o.file, r->o.line, "name '%s' does not fit a key",
				   r->name);
			return n;
		}
		k.prefixlen = DNS_NAME_FIXED_BITS + 8 * n;
		v.name_len = n;
		if (bpf_map_update_elem(names_fd, &k, &v, BPF_NOEXIST)) {
			diag_error(d, r->o.file, r->o.line, "cannot add '%s' to the DNS names: %s",
				   r->o.text, strerror(errno));
			return -errno;
		}
	}
	nt = dns_qtypes_in_force(p, &types);
	for (size_t i = 0; p->nr_dns_names && i < nt; i++) {
		struct dns_qtype_key k = { .qtype = types[i], .gen = gen };

		if (bpf_map_update_elem(qtypes_fd, &k, &one, BPF_ANY)) {
			diag_error(d, p->dns_qtype_file, p->dns_qtype_line,
				   "cannot add query type %u: %s", types[i], strerror(errno));
			return -errno;
		}
	}
	return 0;
}

void dns_maps_clear_gen(int names_fd, int qtypes_fd, __u32 gen)
{
	map_clear_gen(names_fd, offsetof(struct dns_name_key, gen), gen);
	map_clear_gen(qtypes_fd, offsetof(struct dns_qtype_key, gen), gen);
}
