/* pipeline_fill.c: filling phase: a generation's settings, classes, banks and rules, and clearing one. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "dns_maps.h"
#include "learn_rules.h"
#include "event.h"
#include "dns_policy.h"
#include "map_walk.h"
#include "pipeline_fill.h"
#include "pipeline_load.h"
#include "rule_entry.h"
#include "rules4.h"
#include "policy.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's, not in libc's errno.h */
#endif

static void prog_array_clear_bank(int fd, __u32 gen)
{
	for (__u32 slot = 0; slot < STAGE_MAX_SLOTS; slot++) {
		__u32 idx = gen * STAGE_MAX_SLOTS + slot;

		bpf_map_delete_elem(fd, &idx);
	}
}

/* where the generation byte sits in the key of a stage's rule map */
static size_t rules_gen_off(const struct stage *st)
{
	return st->desc.map_kind == STAGE_MAP_EXACT ? offsetof(struct policy_key, gen) :
						      offsetof(struct policy_lpm_key, k.gen);
}

/*
 * Writes generation gen's half of the class map (an mmapable array): slots
 * of TCP ports then of UDP ports, 2 * CLASS_PORTS of them, or NULL for none.
 */
static int classes_write_gen(int fd, __u32 gen, const struct class_value *ports)
{
	size_t len = CLASS_ENTRIES * sizeof(struct class_value);
	size_t half = 2 * CLASS_PORTS * sizeof(struct class_value);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	if (ports)
		memcpy((char *)m + CLASS_INDEX(gen, 0, 0) * sizeof(*ports), ports, half);
	else
		memset((char *)m + CLASS_INDEX(gen, 0, 0) * sizeof(struct class_value), 0, half);
	munmap(m, len);
	return 0;
}

/* removes generation gen from every policy map this transaction touches */
void txn_clear_gen(struct txn *t, const struct install_req *rq, __u32 gen)
{
	classes_write_gen(bpf_map__fd(t->skel->maps.classes), gen, NULL);
	map_clear_gen(bpf_map__fd(t->skel->maps.sources), offsetof(struct source_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.audit_tools), offsetof(struct audit_tool_key, gen),
		      gen);
	dns_maps_clear_gen(bpf_map__fd(t->skel->maps.dns_names),
			   bpf_map__fd(t->skel->maps.dns_qtypes), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_names), offsetof(struct dns_name_key, gen),
		      gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_rules), offsetof(struct learn_rule_key, gen),
		      gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_resolvers),
		      offsetof(struct learn_resolver_key, gen), gen);
	for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++)
		prog_array_clear_bank(txn_map_fd(t, hooks[h].banks), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.wide_rules), offsetof(struct policy_lpm_key, k.gen),
		      gen);
	/* a map this install made holds no generation but its own: nothing of another to clear */
	for (size_t i = 0; i < t->nr_ls; i++) {
		if (!t->ls[i].rules_made)
			map_clear_gen(t->ls[i].rules_fd, rules_gen_off(&rq->stages[i]), gen);
		/* rules4 (a table, rules4.h) is made for every generation: always this one's */
	}
}

bool rule_entry_counted(const void *key, __u32 key_size, const void *value, __u32 value_size,
			__u32 *gen, __u32 *rule, struct pkt_count *c)
{
	const struct policy_value *v = value;

	if (value_size != sizeof(*v))
		return false;
	if (key_size == sizeof(struct policy_key4))
		*gen = ((const struct policy_key4 *)key)->gen;
	else if (key_size == sizeof(struct policy_key))
		*gen = ((const struct policy_key *)key)->gen;
	else if (key_size == sizeof(struct policy_lpm_key))
		*gen = ((const struct policy_lpm_key *)key)->k.gen;
	else
		return false;
	if (v->flags & POLICY_F_TOOL_RULE)
		return false; /* XDP's marker: its hits are counted at tc ingress */
	*rule = v->rule_id;
	c->packets = v->packets;
	c->bytes = v->bytes;
	return true;
}

/* the key of plan entry e in generation t->gen, under the tool its rule names */
static void entry_key(const struct txn *t, const struct install_req *rq, const struct plan_entry *e,
		      struct policy_key *k)
{
	rule_entry_full_key(t->gen, &rq->profile->rules[e->rule], e, k);
}

/* where plan entry e goes, its key and value (rule_entry.c: the one encoder) */
static void entry_of(const struct txn *t, const struct install_req *rq, const struct plan_entry *e,
		     struct rule_entry *re)
{
	rule_entry_encode(t->gen, &rq->profile->rules[e->rule], e,
			  e->wide ? STAGE_MAP_EXACT : rq->stages[e->stage].desc.map_kind, e->rule,
			  re);
}

int txn_stage_size4(const struct txn *t, const struct install_req *rq, size_t stage, size_t *in4,
		    size_t *size4)
{
	size_t cap = 0;
	__u64 *words = NULL;

	*in4 = 0;
	for (size_t i = 0; i < rq->plan->nr_entries; i++) {
		const struct plan_entry *e = &rq->plan->entries[i];
		struct rule_entry re;

		if (e->stage != stage)
			continue;
		entry_of(t, rq, e, &re);
		if (re.map != RULE_MAP_RULES4)
			continue;
		if (*in4 == cap) {
			__u64 *more = realloc(words, (cap = cap ? 2 * cap : 1024) * sizeof(*words));

			if (!more) {
				free(words);
				return -ENOMEM;
			}
			words = more;
		}
		words[(*in4)++] = rules4_key(rule_entry_key(&re));
	}
	*size4 = rules4_size_for(words, *in4);
	free(words);
	return 0;
}

/*
 * Where plan entry e goes, and its key there: its stage's rules4 (struct
 * policy_key4), its stage's rules (struct policy_key for an exact stage,
 * struct policy_lpm_key for a prefix stage), or wide_rules (a prefix or
 * every-port entry of an exact stage: struct policy_lpm_key). key has room
 * for a struct policy_lpm_key; returns the key's size, *k its policy_key
 * part (NULL for rules4: no tool there, so no marker either).
 */
static size_t entry_encode(const struct txn *t, const struct install_req *rq,
			   const struct plan_entry *e, void *key, struct policy_key **k, int *fd,
			   const char **where)
{
	struct rule_entry re;

	entry_of(t, rq, e, &re);
	*where = e->wide ? "wide_rules" : rq->stages[e->stage].desc.name;
	memcpy(key, rule_entry_key(&re), re.size);
	/* rules4 keys have no tool part: NULL (no marker either) */
	*k = re.map == RULE_MAP_RULES4		      ? NULL :
	     re.size == sizeof(struct policy_lpm_key) ? &((struct policy_lpm_key *)key)->k :
							key;
	*fd = re.map == RULE_MAP_RULES4 ? t->ls[e->stage].rules4_fd :
	      re.map == RULE_MAP_WIDE	? bpf_map__fd(t->skel->maps.wide_rules) :
					  t->ls[e->stage].rules_fd;
	return re.size;
}

/* one entry into b, false when it is full */
static bool baked_add(struct stage_baked *b, const struct policy_key *k,
		      const struct policy_value *v)
{
	if (b->nr >= STAGE_BAKED_MAX)
		return false;
	if (k->family == AF_INET && !k->tool) {
		/* the same bytes as the stage's struct policy_key4 of the packet */
		struct policy_key4 k4 = { .dport = k->dport, .l4proto = k->l4proto, .gen = k->gen };

		memcpy(&k4.daddr, k->daddr, sizeof(k4.daddr));
		memcpy(&b->k4[b->nr], &k4, sizeof(k4));
	} else {
		b->full++;
	}
	b->e[b->nr].k = *k;
	b->e[b->nr++].v = *v;
	return true;
}

/*
 * b's IPv4 keys of every process (k4[]) into h4[], each in its own slot: the
 * first multiplier of a fixed sequence (splitmix64, odd) under which no two
 * share a slot, of at most `tries`. 0, or -ENOENT when none was found (two
 * equal keys, or too few tries): h4_mul stays 0 and the stage walks k4[].
 */
int stage_baked_hash(struct stage_baked *b, unsigned int tries)
{
	__u64 seed = 0;

	b->h4_mul = 0;
	for (unsigned int t = 0; t < tries; t++) {
		__u64 mul, z;
		__u32 used = 0;
		size_t i;

		seed += 0x9e3779b97f4a7c15ULL;
		z = seed;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		mul = (z ^ (z >> 31)) | 1;
		for (i = 0; i < b->nr; i++) {
			__u32 s;

			if (b->k4[i] == STAGE_BAKED_NONE)
				continue;
			s = stage_baked_slot(b->k4[i], mul);
			if (used & (1u << s))
				break;
			used |= 1u << s;
		}
		if (i < b->nr)
			continue;
		for (i = 0; i < STAGE_BAKED_SLOTS; i++)
			b->h4[i] = (struct stage_baked_slot){ .k4 = STAGE_BAKED_NONE };
		for (i = 0; i < b->nr; i++)
			if (b->k4[i] != STAGE_BAKED_NONE)
				b->h4[stage_baked_slot(b->k4[i], mul)] =
					(struct stage_baked_slot){ .k4 = b->k4[i],
								   .rule_id = b->e[i].v.rule_id };
		b->h4_mul = mul;
		return 0;
	}
	return -ENOENT;
}

/*
 * Stage `stage`'s entries of generation t->gen, as fill_rules writes them
 * into its map, into b, and b->on set, when they are STAGE_BAKED_MAX or
 * fewer; else b->on stays 0 (the stage asks its map).
 */
void txn_stage_baked(const struct txn *t, const struct install_req *rq, size_t stage,
		     struct stage_baked *b)
{
	const struct plan *pl = rq->plan;

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < STAGE_BAKED_MAX; i++)
		b->k4[i] = STAGE_BAKED_NONE;
	for (size_t i = 0; i < STAGE_BAKED_SLOTS; i++)
		b->h4[i].k4 = STAGE_BAKED_NONE;
	if (rq->stages[stage].desc.map_kind != STAGE_MAP_EXACT)
		return;
	for (size_t i = 0; i < pl->nr_entries; i++) {
		const struct plan_entry *e = &pl->entries[i];
		struct policy_value v = { .rule_id = e->rule };
		struct policy_key k;

		/* a wide entry is in wide_rules, which the stage asks after its own */
		if (e->stage != stage || e->wide)
			continue;
		entry_key(t, rq, e, &k);
		if (!baked_add(b, &k, &v))
			return;
		if (!t->xdp_hooks || !k.tool)
			continue;
		k.tool = POLICY_TOOL_UNKNOWN;
		v.flags = POLICY_F_TOOL_RULE;
		if (!baked_add(b, &k, &v))
			return;
	}
	/* no multiplier found: h4_mul 0, the stage walks k4[] */
	(void)stage_baked_hash(b, STAGE_BAKED_HASH_TRIES);
	b->on = 1;
}

/* entries written into a rule map in one system call (bpf_map_update_batch) */
#define FILL_BATCH 4096

/*
 * Entries waiting for one rule map: keys of key_size bytes, their values,
 * and for each the plan entry it came from (for the error of a failed one).
 */
struct fill_batch {
	size_t n, key_size;
	int fd; /* the rule map: a stage's, or wide_rules */
	const char *where; /* its name, for an error */
	__u64 flags; /* BPF_NOEXIST for rules, BPF_ANY for XDP's markers (one call per entry) */
	char keys[FILL_BATCH * sizeof(struct policy_lpm_key)];
	struct policy_value values[FILL_BATCH];
	size_t from[FILL_BATCH];
};

/* writes what b holds, in one call; on failure the error names the rule it failed on */
static int batch_flush(const struct install_req *rq, struct fill_batch *b, struct diag *d)
{
	/* a batch takes no BPF_NOEXIST: the profile has no two rules of one key (its check
	 * refused duplicates), and the generation was cleared before the fill */
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = b->n;
	int err;

	if (!b->n)
		return 0;
	err = bpf_map_update_batch(b->fd, b->keys, b->values, &count, &opts);
	if (err && !count && (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOTSUPP)) {
		/* a kernel without batches for this map type: one call per entry */
		for (err = 0; !err && count < b->n; count += !err)
			err = bpf_map_update_elem(b->fd, b->keys + count * b->key_size,
						  &b->values[count], b->flags);
	}
	if (err) {
		const struct plan_entry *e = &rq->plan->entries[b->from[count < b->n ? count : 0]];
		const struct rule *r = &rq->profile->rules[e->rule];

		err = -errno;
		diag_error(d, r->o.file, r->o.line, "cannot add rule to %s%s: %s", b->where,
			   b->flags == BPF_ANY ? " for XDP" : "", strerror(-err));
		return err;
	}
	b->n = 0;
	return 0;
}

/* one entry into b, b written first when it is full or for another map or kind */
static int batch_add(const struct install_req *rq, struct fill_batch *b, int fd, const char *where,
		     __u64 flags, const void *key, size_t key_size, const struct policy_value *v,
		     size_t from, struct diag *d)
{
	int err;

	if (b->n && (b->n == FILL_BATCH || b->fd != fd || b->flags != flags)) {
		err = batch_flush(rq, b, d);
		if (err)
			return err;
	}
	b->fd = fd;
	b->where = where;
	b->flags = flags;
	b->key_size = key_size;
	memcpy(b->keys + b->n * key_size, key, key_size);
	b->values[b->n] = *v;
	b->from[b->n++] = from;
	return 0;
}

/*
 * Entry key4 (a struct policy_key4) of plan entry e into its stage's table
 * rules4, through its mapping in tabs[] (made at its stage's first entry).
 */
static int fill_rules4(const struct txn *t, const struct install_req *rq, struct rules4 *tabs,
		       const struct plan_entry *e, const void *key4, const struct policy_value *v,
		       struct diag *d)
{
	const struct rule *r = &rq->profile->rules[e->rule];
	struct rules4 *tab = &tabs[e->stage];
	int err = tab->slots ? 0 : rules4_map(t->ls[e->stage].rules4_fd, true, tab);

	if (!err)
		err = rules4_add(tab, rules4_key(key4), v, false);
	if (err)
		diag_error(d, r->o.file, r->o.line, "cannot add rule to %s's rules4: %s",
			   rq->stages[e->stage].desc.name,
			   err == -ENOSPC ? "no free slot within its probe bound" : strerror(-err));
	return err;
}

/*
 * The plan's entries of one kind (wide: those of wide_rules, else those of
 * the stages' own maps) into their maps, FILL_BATCH a system call (one call
 * per entry made an install of 1M rules spend most of its time entering the
 * kernel); XDP's markers of tool rules in batches of their own, after the
 * rules. The stages' entries touch nothing but the maps txn_open_stage made
 * (and t's gen, xdp_hooks and ls[].rules*_fd): a thread may write them while
 * the programs load (txn_fill_stage_maps_start).
 */
static int fill_rules(const struct txn *t, const struct install_req *rq, bool wide, size_t lo,
		      size_t hi, bool progress, struct diag *d)
{
	const struct plan *pl = rq->plan;
	struct fill_batch *b = calloc(2, sizeof(*b)), *mk = b + 1;
	struct rules4 *tabs = calloc(t->nr_ls ?: 1, sizeof(*tabs));
	int err = b && tabs ? 0 : -ENOMEM;

	progress = progress && rq->progress && !wide;
	for (size_t i = lo; !err && i < hi; i++) {
		const struct plan_entry *e = &pl->entries[i];
		const struct rule *r = &rq->profile->rules[e->rule];
		struct policy_value v = { .rule_id = e->rule };
		struct policy_lpm_key key;
		struct policy_key *k;
		const char *where;
		size_t ks;
		int fd;

		/* the first range's thread speaks for all: they go at the same pace */
		if (progress && (i - lo) % 65536 == 0)
			rq->progress((i - lo) * pl->nr_entries / (hi - lo), pl->nr_entries);
		if (e->wide != wide)
			continue;
		ks = entry_encode(t, rq, e, &key, &k, &fd, &where);
		if (!k) { /* rules4: no tool, no marker */
			err = fill_rules4(t, rq, tabs, e, &key, &v, d);
			continue;
		}
		err = batch_add(rq, b, fd, where, BPF_NOEXIST, &key, ks, &v, i, d);
		if (err || !t->xdp_hooks || !r->o.tool_id || !k)
			continue;
		/* for XDP, which knows no tool: some tool may send there, tc ingress decides */
		k->tool = POLICY_TOOL_UNKNOWN;
		v.flags = POLICY_F_TOOL_RULE;
		/* the markers after the rules of their map: a full batch of them waits for those */
		if (mk->n && (mk->n == FILL_BATCH || mk->fd != fd))
			err = batch_flush(rq, b, d) ?: batch_flush(rq, mk, d);
		if (!err)
			err = batch_add(rq, mk, fd, where, BPF_ANY, &key, ks, &v, i, d);
	}
	if (!err)
		err = batch_flush(rq, b, d) ?: batch_flush(rq, mk, d);
	for (size_t i = 0; tabs && i < t->nr_ls; i++)
		rules4_unmap(&tabs[i]);
	free(tabs);
	free(b);
	if (!err && progress)
		rq->progress(pl->nr_entries, pl->nr_entries);
	return err;
}

/* threads that fill the stages' maps, each a range of the plan's entries */
#define FILL_THREADS 2
/* fewer entries than this: one thread (a thread's start costs more than it saves) */
#define FILL_SPLIT_MIN 65536

struct fill_job {
	pthread_t thread;
	bool started;
	const struct txn *t;
	const struct install_req *rq;
	size_t lo, hi; /* the plan's entries [lo, hi) */
	struct diag d; /* its own: the loads report into the install's meanwhile */
	int err;
};

static void *fill_stage_maps(void *arg)
{
	struct fill_job *j = arg;

	j->err = fill_rules(j->t, j->rq, false, j->lo, j->hi, j->lo == 0, &j->d);
	return NULL;
}

int txn_fill_stage_maps_start(struct txn *t, const struct install_req *rq)
{
	size_t n = rq->plan->nr_entries, nr = FILL_THREADS;
	int err = 0;

	/*
	 * Two threads, each half of the entries: the programs are verified beside them on
	 * a machine of two cores. One when XDP's markers must follow the rules of their map
	 * (in one thread's order), or for few entries.
	 */
	if ((t->xdp_hooks && rq->has_tools) || n < FILL_SPLIT_MIN)
		nr = 1;
	t->fill_jobs = calloc(nr, sizeof(*t->fill_jobs));
	if (!t->fill_jobs)
		return -ENOMEM;
	t->nr_fill_jobs = nr;
	for (size_t i = 0; !err && i < nr; i++) {
		struct fill_job *j = &t->fill_jobs[i];

		j->t = t;
		j->rq = rq;
		j->lo = n * i / nr;
		j->hi = n * (i + 1) / nr;
		err = -pthread_create(&j->thread, NULL, fill_stage_maps, j);
		j->started = !err;
	}
	return err;
}

int txn_fill_stage_maps_end(struct txn *t, struct diag *d)
{
	int err = 0;

	for (size_t i = 0; i < t->nr_fill_jobs; i++) {
		struct fill_job *j = &t->fill_jobs[i];

		if (!j->started)
			continue;
		pthread_join(j->thread, NULL);
		err = err ?: j->err;
		for (int k = 0; k < j->d.nr; k++) {
			const struct diag_part *dp = &j->d.parts[k];

			if (dp->warning)
				diag_warn(d, dp->file, dp->line, "%s", dp->body);
			else
				diag_error(d, dp->file, dp->line, "%s", dp->body);
		}
		diag_free(&j->d);
	}
	free(t->fill_jobs);
	t->fill_jobs = NULL;
	t->nr_fill_jobs = 0;
	return err;
}

struct learn_fds txn_learn_fds(const struct txn *t)
{
	return (struct learn_fds){
		.names = bpf_map__fd(t->skel->maps.learn_names),
		.rules = bpf_map__fd(t->skel->maps.learn_rules),
		.resolvers = bpf_map__fd(t->skel->maps.learn_resolvers),
		.config = bpf_map__fd(t->skel->maps.learn_config),
		.learned = bpf_map__fd(t->skel->maps.learned),
		.counts = bpf_map__fd(t->skel->maps.learn_addr_counts),
		.flows = bpf_map__fd(t->skel->maps.learn_flows),
	};
}

/*
 * A budget of events of its own for every tool a line names (the others
 * share one, events.h), one for its denials and one for its flow and query
 * records; kept across switches, an existing one untouched.
 */
static int fill_event_budgets(const struct txn *t, const struct profile *p, struct diag *d)
{
	int fd = bpf_map__fd(t->skel->maps.event_budgets);
	struct event_budget fresh = {};

	for (size_t i = 0; i < profile_nr_origins(p) + p->nr_audits; i++) {
		__u64 tool = i < profile_nr_origins(p) ?
				     profile_origin(p, i)->tool_id :
				     p->audits[i - profile_nr_origins(p)].tool_id;

		__u64 flows = tool | EVENT_BUDGET_FLOWS;

		if (!tool ||
		    ((!bpf_map_update_elem(fd, &tool, &fresh, BPF_NOEXIST) || errno == EEXIST) &&
		     (!bpf_map_update_elem(fd, &flows, &fresh, BPF_NOEXIST) || errno == EEXIST)))
			continue;
		diag_error(d, NULL, 0, "cannot give a tool its budget of events: %s",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

int txn_fill(struct txn *t, const struct install_req *rq, struct diag *d)
{
	int classes = bpf_map__fd(t->skel->maps.classes);
	int sources = bpf_map__fd(t->skel->maps.sources);
	struct gen_config cfg = {
		.tool_level = rq->tool_level,
		.flags = (rq->has_tools ? GEN_HAS_TOOLS : 0) | (rq->audit_all ? GEN_AUDIT : 0) |
			 (rq->profile->nr_dns_names ? GEN_DNS_NAMES : 0) |
			 (rq->profile->nr_name_rules ? GEN_LEARN : 0) |
			 (learn_sni_checked(rq->profile) ? GEN_SNI : 0) |
			 (rq->plan->wide_ports ? GEN_WIDE_PORTS : 0) |
			 (rq->plan->all_ports ? GEN_ALL_PORTS : 0) |
			 (attach_kind_present(rq->points, rq->nr_points, ATTACH_CGROUP) ?
				  GEN_FLOWS_AT_CGROUP :
				  0),
		.audit_slots = rq->audit_slots,
	};
	struct class_value *ports;
	__u32 one = 1, gen = t->gen;
	int err;

	for (size_t i = 0; i < rq->profile->nr_audits; i++) {
		const struct audit_line *a = &rq->profile->audits[i];
		struct audit_tool_key k = { .tool = a->tool_id, .gen = t->gen };

		if (a->tool)
			cfg.flags |= GEN_AUDIT_TOOLS;
		if (a->tool && a->tool_id &&
		    bpf_map_update_elem(bpf_map__fd(t->skel->maps.audit_tools), &k, &one,
					BPF_ANY)) {
			diag_error(d, a->file, a->line, "cannot put tool '%s' in audit mode: %s",
				   a->name, strerror(errno));
			return -errno;
		}
	}
	/*
	 * Every source is one address (pipeline_install checked): a few go in the
	 * settings, compared in place; more than those, and all of them go in the trie.
	 */
	for (size_t i = 0; i < rq->nr_sources; i++) {
		if (cfg.nr_sources == GEN_INLINE_SOURCES) {
			cfg.flags |= GEN_SOURCE_MAP;
			break;
		}
		cfg.src[cfg.nr_sources].family = rq->sources[i].family;
		memcpy(cfg.src[cfg.nr_sources++].addr, rq->sources[i].bytes, 16);
	}
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.config), &gen, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(t->skel->maps.xdp_marks), &gen, &t->xdp_mark,
				BPF_ANY)) {
		diag_error(d, NULL, 0, "cannot write the generation's settings: %s",
			   strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < rq->nr_sources; i++) {
		struct source_key k = {
			.prefixlen = SOURCE_LPM_FIXED_BITS + rq->sources[i].plen,
			.gen = t->gen,
			.family = rq->sources[i].family,
		};
		__u32 bits = rq->sources[i].plen; /* the value the dispatcher asks for */

		memcpy(k.addr, rq->sources[i].bytes, sizeof(k.addr));
		if (bpf_map_update_elem(sources, &k, &bits, BPF_ANY)) {
			diag_error(d, NULL, 0, "cannot add source address: %s", strerror(errno));
			return -errno;
		}
	}
	/* every port of both protocols: "any other port" first, then the exact classes */
	ports = calloc(2 * CLASS_PORTS, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (int exact = 0; exact < 2; exact++) {
		for (size_t i = 0; i < rq->plan->nr_classes; i++) {
			const struct plan_class *c = &rq->plan->classes[i];
			struct class_value *proto =
				ports + (c->l4proto == IPPROTO_UDP) * CLASS_PORTS;
			__u32 slot = rq->stages[c->stage].desc.slot;

			if (!exact && !c->port) {
				for (__u32 p = 0; p < CLASS_PORTS; p++)
					proto[p].slot = slot;
			} else if (exact && c->port) {
				proto[c->port].slot = slot;
			}
		}
	}
	err = classes_write_gen(classes, t->gen, ports);
	free(ports);
	if (err) {
		diag_error(d, NULL, 0, "cannot write the class map: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < t->nr_ls; i++) {
		__u32 idx = t->gen * STAGE_MAX_SLOTS + rq->stages[i].desc.slot;

		for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++) {
			int banks = txn_map_fd(t, hooks[h].banks);

			if (t->ls[i].prog_fds[h] < 0)
				continue; /* that hook is attached nowhere */
			if (bpf_map_update_elem(banks, &idx, &t->ls[i].prog_fds[h], BPF_ANY)) {
				diag_error(d, NULL, 0, "cannot put stage '%s' in slot %u of %s: %s",
					   rq->stages[i].desc.name, rq->stages[i].desc.slot,
					   hooks[h].banks, strerror(errno));
				return -errno;
			}
		}
	}
	err = fill_event_budgets(t, rq->profile, d);
	/* the stages' own maps: filled already, by txn_fill_stage_maps_start's thread */
	if (!err && !t->fill_started)
		err = fill_rules(t, rq, false, 0, rq->plan->nr_entries, true, d);
	if (!err)
		err = fill_rules(t, rq, true, 0, rq->plan->nr_entries, false, d);
	if (!err)
		err = dns_maps_fill(bpf_map__fd(t->skel->maps.dns_names),
				    bpf_map__fd(t->skel->maps.dns_qtypes), t->gen, rq->profile, d);
	if (!err) {
		struct learn_fds lf = txn_learn_fds(t);

		err = learn_maps_fill(&lf, t->gen, rq->profile, rq->plan, rq->stages, t->xdp_hooks,
				      d);
	}
	return err;
}
