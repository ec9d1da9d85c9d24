/* learn_maps.c: the learning maps of an instance: filled per generation, names keep their ids, state read back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dns_policy.h"
#include "learn.h"
#include "learn_maps.h"
#include "learn_rules.h"
#include "pins.h"
#include "policy.h"

static const char *const event_names[LEARN_EV_MAX] = {
	[LEARN_EV_LEARNED] = "learned",
	[LEARN_EV_NOT_RESOLVER] = "not_resolver",
	[LEARN_EV_NO_QUERY] = "no_query",
	[LEARN_EV_QUESTION] = "question",
	[LEARN_EV_MALFORMED] = "malformed",
	[LEARN_EV_TOO_BIG] = "too_big",
	[LEARN_EV_RCODE] = "rcode",
	[LEARN_EV_CAP] = "cap",
	[LEARN_EV_CHAIN] = "chain",
	[LEARN_EV_OFF_CHAIN] = "off_chain",
	[LEARN_EV_WRONG_ID] = "wrong_id",
	[LEARN_EV_RATE] = "rate",
	[LEARN_EV_WRONG_IF] = "wrong_if",
	[LEARN_EV_TOTAL] = "total",
	[LEARN_EV_NOT_VIA] = "not_via",
	[LEARN_EV_TRUNCATED] = "truncated",
	[LEARN_EV_TCP] = "tcp",
};

const char *learn_event_name(unsigned int ev)
{
	return ev < LEARN_EV_MAX && event_names[ev] ? event_names[ev] : "unknown";
}

struct id_set {
	__u32 *ids;
	size_t n;
};

static bool id_in(const struct id_set *s, __u32 id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

static int id_add(struct id_set *s, __u32 id)
{
	__u32 *g;

	if (id_in(s, id))
		return 0;
	g = realloc(s->ids, (s->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	s->ids = g;
	s->ids[s->n++] = id;
	return 0;
}

/* ids in learn_names (every generation), and, with learned_too, of names with learned addresses */
static int ids_in_use(const struct learn_fds *f, bool learned_too, struct id_set *s)
{
	struct dns_name_key k, next;
	struct learn_name_value v;
	bool first = true;
	int err = 0;

	while (!err && !bpf_map_get_next_key(f->names, first ? NULL : &k, &next)) {
		if (!bpf_map_lookup_elem(f->names, &next, &v))
			err = id_add(s, v.name_id);
		k = next;
		first = false;
	}
	for (__u32 id = 1; !err && learned_too && id < LEARN_IDS_MAX; id++) {
		struct learn_addr_count c;

		if (!bpf_map_lookup_elem(f->counts, &id, &c) && c.n)
			err = id_add(s, id);
	}
	return err;
}

/* the id generation other has for the name whose key is key (n bytes), or 0 */
static __u32 old_id(const struct learn_fds *f, __u32 other, const __u8 *key, int n)
{
	struct dns_name_key k = { .prefixlen = DNS_NAME_FIXED_BITS + 8 * n, .gen = other };
	struct learn_name_value v;

	memcpy(k.name, key, n);
	/* an LPM lookup: a shorter wildcard over the name is another name */
	if (bpf_map_lookup_elem(f->names, &k, &v) || v.name_len != n)
		return 0;
	return v.name_id;
}

struct rule_list {
	struct learn_rule_key k;
	struct learn_rule_value v;
	const struct name_rule *first;
};

static int list_add(struct rule_list **l, size_t *n, const struct learn_rule_key *k, __u32 name_id,
		    __u32 rule_id, __u32 flags, const struct name_rule *r, struct diag *d)
{
	struct rule_list *e = NULL, *g;

	for (size_t i = 0; i < *n && !e; i++)
		if (!memcmp(&(*l)[i].k, k, sizeof(*k)))
			e = &(*l)[i];
	if (!e) {
		g = realloc(*l, (*n + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		*l = g;
		e = &g[(*n)++];
		memset(e, 0, sizeof(*e));
		e->k = *k;
		e->v.flags = flags;
		e->first = r;
	}
	for (__u32 i = 0; i < e->v.nr; i++)
		if (e->v.e[i].name_id == name_id)
			return 0; /* the same name for two tools, under the XDP marker */
	if (e->v.nr == LEARN_NAMES_PER_PORT) {
		diag_error(d, r->o.file, r->o.line,
			   "more than %d names of tools' rules for %s port %u (XDP holds them in "
			   "one entry)",
			   LEARN_NAMES_PER_PORT, l4proto_name(r->l4proto), ntohs(k->dport));
		return -E2BIG;
	}
	if (r->sni_off)
		e->v.flags |= LEARN_F_SNI_OFF(e->v.nr);
	e->v.e[e->v.nr].name_id = name_id;
	e->v.e[e->v.nr++].rule_id = rule_id;
	return 0;
}

/* the resolvers, each with its index (a bit of a name's mask); their addresses in res[] */
static int fill_resolvers(const struct learn_fds *f, __u32 gen, const struct profile *p,
			  const struct plan *pl, const struct stage *stages, struct addr *res,
			  size_t *nres, struct diag *d)
{
	*nres = 0;
	for (size_t i = 0; i < pl->nr_entries; i++) {
		const struct rule *r = &p->rules[pl->entries[i].rule];
		struct learn_resolver_key k = { .gen = gen, .family = r->dst.family };
		__u32 idx;

		/* a prefix or a rule for every port (wide) is never a resolver */
		if (pl->entries[i].wide || strcmp(stages[pl->entries[i].stage].desc.name, "dns") ||
		    r->l4proto != IPPROTO_UDP)
			continue;
		for (idx = 0; idx < *nres && !addr_equal(&res[idx], &r->dst); idx++)
			;
		if (idx == LEARN_RESOLVERS_MAX) {
			diag_error(d, r->o.file, r->o.line, "more than %d resolvers to learn from",
				   LEARN_RESOLVERS_MAX);
			return -E2BIG;
		}
		if (idx == *nres)
			res[(*nres)++] = r->dst;
		memcpy(k.addr, r->dst.bytes, sizeof(k.addr));
		if (bpf_map_update_elem(f->resolvers, &k, &idx, BPF_ANY)) {
			diag_error(d, r->o.file, r->o.line,
				   "cannot add the resolver for learning: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* the resolvers that may teach name rule r's name: a bit each, every one without 'via' */
static int via_mask(const struct profile *p, const struct name_rule *r, const struct addr *res,
		    size_t nres, __u64 *mask, struct diag *d)
{
	const struct addr *via = r->has_via ? &r->via : p->learn.has_via ? &p->learn.via : NULL;
	char buf[ADDR_STR_LEN];

	*mask = ~0ull;
	if (!via)
		return 0;
	for (size_t i = 0; i < nres; i++)
		if (addr_equal(&res[i], via)) {
			*mask = 1ull << i;
			return 0;
		}
	diag_error(
		d, r->has_via ? r->o.file : p->learn.file, r->has_via ? r->o.line : p->learn.line,
		"'via %s' is no resolver the dns stage holds", addr_format(via, buf, sizeof(buf)));
	return -EINVAL;
}

int learn_maps_fill(const struct learn_fds *f, __u32 gen, const struct profile *p,
		    const struct plan *pl, const struct stage *stages, bool xdp, struct diag *d)
{
	struct learn_config c = learn_config_of(p);
	struct id_set used = {}, mine = {};
	struct rule_list *lists = NULL;
	struct addr res[LEARN_RESOLVERS_MAX];
	size_t nl = 0, nres = 0;
	__u32 *ids = NULL, next = 1;
	int err = 0;

	if (!p->nr_name_rules)
		return 0;
	ids = calloc(p->nr_name_rules, sizeof(*ids));
	err = ids ? ids_in_use(f, true, &used) : -ENOMEM;
	if (!err && bpf_map_update_elem(f->config, &gen, &c, BPF_ANY)) {
		err = -errno;
		diag_error(d, p->learn.file, p->learn.line,
			   "cannot write the learning settings: %s", strerror(errno));
	}
	if (!err)
		err = fill_resolvers(f, gen, p, pl, stages, res, &nres, d);
	for (size_t i = 0; !err && i < p->nr_name_rules; i++) {
		const struct name_rule *r = &p->name_rules[i];
		struct dns_name_key k = { .gen = gen };
		struct learn_name_value v = { .wildcard = r->wildcard };
		int n = learn_host_key(r->host, k.name, sizeof(k.name));

		if (n < 0) {
			diag_error(d, r->o.file, r->o.line, "host '%s' does not fit a key",
				   r->host);
			err = n;
			break;
		}
		k.prefixlen = DNS_NAME_FIXED_BITS + 8 * n;
		v.name_len = n;
		for (size_t j = 0; j < i && !ids[i]; j++)
			if (!strcmp(p->name_rules[j].host, r->host))
				ids[i] = ids[j];
		if (ids[i])
			continue; /* the name's first rule made its entry */
		ids[i] = old_id(f, !gen, k.name, n);
		while (!ids[i] && next < LEARN_IDS_MAX) {
			/* a new name: an id neither generation nor a learned address has */
			if (!id_in(&used, next) && !id_in(&mine, next))
				ids[i] = next;
			next++;
		}
		if (!ids[i]) {
			diag_error(d, r->o.file, r->o.line,
				   "no name id left for '%s' (%d in use): install again once "
				   "the names no rule follows are forgotten",
				   r->host, LEARN_IDS_MAX - 1);
			err = -ENOSPC;
			break;
		}
		err = id_add(&mine, ids[i]);
		if (!err)
			err = via_mask(p, r, res, nres, &v.resolvers, d);
		v.name_id = ids[i];
		if (!err && bpf_map_update_elem(f->names, &k, &v, BPF_ANY)) {
			err = -errno;
			diag_error(d, r->o.file, r->o.line,
				   "cannot add '%s' to the followed names: %s", r->host,
				   strerror(errno));
		}
	}
	/*
	 * Each {protocol, port, tool} lists the followed names whose addresses it
	 * allows: a rule's own name, and every followed name its wildcard
	 * covers (a query finds the most specific name only), each under the
	 * most specific rule there (learn_rule_over).
	 */
	for (size_t i = 0; !err && i < p->nr_name_rules; i++) {
		const struct name_rule *r = &p->name_rules[i];

		for (__u32 port = r->port_lo; !err && port <= r->port_hi; port++) {
			struct learn_rule_key k = { .tool = r->o.tool_id,
						    .gen = gen,
						    .l4proto = r->l4proto,
						    .dport = htons(port) };

			for (size_t x = 0; !err && x < p->nr_name_rules; x++) {
				/* listed once per name (list_add), under the rule counted */
				if (!learn_host_covers(r->host, p->name_rules[x].host) ||
				    learn_rule_over(p, x, r->l4proto, port, r->o.tool) != (int)i)
					continue;
				err = list_add(&lists, &nl, &k, ids[x], learn_rule_id(p, i), 0, r,
					       d);
				if (err || !xdp || !r->o.tool_id)
					continue;
				/* XDP knows no tool: some tool may go there, tc ingress decides */
				k.tool = POLICY_TOOL_UNKNOWN;
				err = list_add(&lists, &nl, &k, ids[x], learn_rule_id(p, i),
					       POLICY_F_TOOL_RULE, r, d);
				k.tool = r->o.tool_id;
			}
		}
	}
	for (size_t i = 0; !err && i < nl; i++)
		if (bpf_map_update_elem(f->rules, &lists[i].k, &lists[i].v, BPF_ANY)) {
			err = -errno;
			diag_error(d, lists[i].first->o.file, lists[i].first->o.line,
				   "cannot add '%s' to the name rules: %s", lists[i].first->o.text,
				   strerror(errno));
		}
	free(lists);
	free(ids);
	free(used.ids);
	free(mine.ids);
	return err;
}

/*
 * Deletes the learned addresses of names no generation follows, each
 * giving its place back in learn_addr_counts (mmap'd: the same atomic
 * decrements as the learning program's, which may add or delete at once).
 */
static void prune_learned(const struct learn_fds *f, const struct id_set *keep)
{
	size_t size = LEARN_IDS_MAX * sizeof(struct learn_addr_count);
	struct learned_key k, next, *gone = NULL;
	struct learn_addr_count *counts;
	size_t n = 0;
	bool first = true;

	counts = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->counts, 0);
	if (counts == MAP_FAILED)
		return; /* nothing deleted: the counts stay right */
	while (!bpf_map_get_next_key(f->learned, first ? NULL : &k, &next)) {
		struct learned_key *g;

		if (!id_in(keep, next.name_id) && (g = realloc(gone, (n + 1) * sizeof(*g)))) {
			gone = g;
			gone[n++] = next;
		}
		k = next;
		first = false;
	}
	for (size_t i = 0; i < n; i++) {
		__u32 id = gone[i].name_id;

		if (bpf_map_delete_elem(f->learned, &gone[i]) || id >= LEARN_IDS_MAX)
			continue;
		__atomic_fetch_sub(&counts[id].n, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_sub(&counts[0].n, 1, __ATOMIC_SEQ_CST);
	}
	free(gone);
	munmap(counts, size);
}

void learn_maps_prune(const struct learn_fds *f)
{
	struct id_set keep = {};
	int fd = f->flows;

	if (ids_in_use(f, false, &keep))
		goto out;
	/* flows carry their name id in the value */
	{
		struct learn_flow_key k, next, *gone = NULL;
		struct learn_flow_value v;
		size_t n = 0;
		bool first = true;

		while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
			struct learn_flow_key *g;

			if (!bpf_map_lookup_elem(fd, &next, &v) && !id_in(&keep, v.name_id) &&
			    (g = realloc(gone, (n + 1) * sizeof(*g)))) {
				gone = g;
				gone[n++] = next;
			}
			k = next;
			first = false;
		}
		for (size_t i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &gone[i]);
		free(gone);
	}
	/* an id stays taken while its count is not 0: a prune cut short frees none in use */
	prune_learned(f, &keep);
out:
	free(keep.ids);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct id_host {
	__u32 id;
	char host[256];
};

int learn_state_read(const char *instance, struct learned_addr **out)
{
	int names = pins_get(instance, "learn_names");
	int learned = pins_get(instance, "learned");
	int ctl = pins_get(instance, "ctl");
	struct dns_name_key k, next;
	struct learned_key lk, lnext;
	struct learned_addr *list = NULL;
	struct id_host *hosts = NULL;
	__u32 zero = 0, ctlw = 0;
	__u64 now = mono_ns();
	bool first = true;
	size_t n = 0, nh = 0;
	int err = 0;

	*out = NULL;
	if (names < 0 || learned < 0 || ctl < 0 || bpf_map_lookup_elem(ctl, &zero, &ctlw)) {
		err = names < 0 ? names : learned < 0 ? learned : ctl < 0 ? ctl : -errno;
		goto out;
	}
	/* the names the generation in force follows, by id */
	while (!bpf_map_get_next_key(names, first ? NULL : &k, &next)) {
		struct learn_name_value v;
		struct id_host *g;

		k = next;
		first = false;
		if (next.gen != (ctlw & CTL_GEN_MASK) || bpf_map_lookup_elem(names, &next, &v))
			continue;
		g = realloc(hosts, (nh + 1) * sizeof(*g));
		if (!g) {
			err = -ENOMEM;
			goto out;
		}
		hosts = g;
		hosts[nh].id = v.name_id;
		if (!learn_key_host(next.name, (next.prefixlen - DNS_NAME_FIXED_BITS) / 8,
				    hosts[nh].host, sizeof(hosts[nh].host)))
			nh++;
	}
	first = true;
	while (!bpf_map_get_next_key(learned, first ? NULL : &lk, &lnext)) {
		struct learned_value lv;
		struct learned_addr *a, *g;
		size_t h;

		lk = lnext;
		first = false;
		for (h = 0; h < nh && hosts[h].id != lnext.name_id; h++)
			;
		if (h == nh || bpf_map_lookup_elem(learned, &lnext, &lv) || lv.deadline_ns <= now)
			continue;
		g = realloc(list, (n + 1) * sizeof(*g));
		if (!g) {
			err = -ENOMEM;
			goto out;
		}
		list = g;
		a = &list[n++];
		memset(a, 0, sizeof(*a));
		snprintf(a->host, sizeof(a->host), "%s", hosts[h].host);
		a->addr.family = lnext.family;
		a->addr.plen = lnext.family == AF_INET ? 32 : 128;
		memcpy(a->addr.bytes, lnext.addr, sizeof(a->addr.bytes));
		a->ttl = lv.ttl;
		a->left_ms = (lv.deadline_ns - now) / 1000000;
	}
out:
	free(hosts);
	if (names >= 0)
		close(names);
	if (learned >= 0)
		close(learned);
	if (ctl >= 0)
		close(ctl);
	if (err) {
		free(list);
		return err;
	}
	*out = list;
	return n;
}

int learn_bounds_read(const char *instance, struct learn_config *c, __u64 *entries)
{
	int cfg = pins_get(instance, "learn_config");
	int counts = pins_get(instance, "learn_addr_counts");
	int ctl = pins_get(instance, "ctl");
	struct learn_addr_count t = {};
	__u32 zero = 0, ctlw = 0, gen;
	int err = 0;

	if (cfg < 0 || counts < 0 || ctl < 0) {
		err = cfg < 0 ? cfg : counts < 0 ? counts : ctl;
		goto out;
	}
	if (bpf_map_lookup_elem(ctl, &zero, &ctlw) ||
	    bpf_map_lookup_elem(cfg, (gen = ctlw & CTL_GEN_MASK, &gen), c) ||
	    bpf_map_lookup_elem(counts, &zero, &t))
		err = -errno;
	*entries = t.n;
out:
	if (cfg >= 0)
		close(cfg);
	if (counts >= 0)
		close(counts);
	if (ctl >= 0)
		close(ctl);
	return err;
}

int learn_counts_read(const char *instance, __u64 *counts)
{
	int ncpu = libbpf_num_possible_cpus(), fd = pins_get(instance, "learn_counts");

	memset(counts, 0, LEARN_EV_MAX * sizeof(*counts));
	if (fd < 0)
		return fd;
	for (__u32 k = 0; ncpu > 0 && k < LEARN_EV_MAX; k++) {
		__u64 vals[ncpu];

		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			counts[k] += vals[c];
	}
	close(fd);
	return 0;
}
