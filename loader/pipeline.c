/* pipeline.c: loading, pinning, filling and attaching an instance, and switching it in one step. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "policy.h"
#include "pipeline.h"
#include "reasons.h"
#include "dns_maps.h"
#include "dns_names.h"
#include "learn_maps.h"
#include "learn_rules.h"
#include "dispatcher.skel.h"
#include "stage_dns.skel.h"
#include "stage_https.skel.h"
#include "stage_internal.skel.h"
#include "counts.h"
#include "xdp.h"

/* maps of the dispatcher that stage objects share by name */
static const char *const shared_maps[] = {
	"ctl",		 "config",	    "reasons",	       "classes",	  "sources",
	"sock_state",	 "stages_tc",	    "stages_cgskb",    "stages_connect4", "stages_connect6",
	"stages_sendmsg4", "stages_sendmsg6", "events", "event_drops", "event_budgets", "audit_tools",
	DNS_MAP_NAMES, DNS_MAP_QTYPES, DNS_MAP_WORK,
	"stages_xdp",
	"learn_names", "learn_rules", "learn_resolvers", "learn_config", "learned", "learn_slots",
	"learn_pending", "learn_flows", "learn_counts",
};
#define NR_SHARED_MAPS (sizeof(shared_maps) / sizeof(shared_maps[0]))

/* smallest rule map; a hash map's bucket array is sized by max_entries up front */
#define RULES_MAP_MIN 1024

/* without membarrier(): how long in-flight packets may still use the old generation */
#define SWAP_GRACE_MS 50

struct loaded_stage {
	struct bpf_object *obj;
	int prog_fds[NR_STAGE_HOOKS];
	int rules_fd;
	bool rules_pinned_here; /* pinned by this install: unpin on failure */
	bool rules_replaced; /* a bigger map than the pinned one: re-pin after the flip */
};

struct txn {
	char dir[128];
	int lock_fd;
	bool existing;
	bool cgroup_hooks; /* load the cgroup programs: a cgroup is (or will be) attached */
	bool dry_run; /* explain's copy: records nothing, has its own prog arrays */
	__u64 dry_tool; /* and judges as sent by this tool (cgroup id; 0: none) */
	bool xdp_hooks; /* load the XDP programs: an XDP point is (or will be) attached */
	bool xdp_generic; /* attach in skb mode: tool rules need the socket at tc ingress */
	bool host_side_tc; /* a --tc-ingress point: learning happens there, not in the sandbox */
	bool pin_xdp_bank; /* an instance from before XDP: its stages_xdp is new, pin it */
	bool pin_late; /* an instance from before learning: its learn_* maps are new, pin them */
	int xdp_map; /* xdp_dispatch: the XDP dispatcher xdp_entry tail-calls; -1 */
	bool xdp_map_new;
	int xdp_old_dispatcher; /* what xdp_dispatch held before, for a rollback; -1 */
	struct attach_point *xdp_new; /* XDP attachments made by this install */
	__u32 *xdp_new_ids;
	size_t nr_xdp_new;
	__u32 old_ctl, gen;
	struct dispatcher *skel;
	struct loaded_stage *ls;
	size_t nr_ls;
	int *new_links; /* links this install created */
	char (*new_link_pins)[PIN_PATH_MAX];
	size_t nr_new_links;
	int *updated_links; /* existing links moved to the new dispatcher */
	int *updated_old_progs; /* and the program each had before */
	size_t nr_updated;
};

int instance_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < INSTANCE_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static void pin_path(char *buf, size_t len, const char *name, const char *object)
{
	snprintf(buf, len, "%s/%s/%s", PIPELINE_ROOT, name, object);
}

int pipeline_pin_get(const char *name, const char *object)
{
	char path[PIN_PATH_MAX];
	int fd;

	pin_path(path, sizeof(path), name, object);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pipeline_bpffs_ensure(struct diag *d)
{
	struct statfs st;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		diag_error(d, NULL, 0, "cannot create /sys/fs/bpf: %s", strerror(errno));
		return -errno;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		diag_error(d, NULL, 0,
			   "bpffs is not mounted and cannot be mounted at /sys/fs/bpf: %s",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

int pipeline_builtin_stages(struct stage *out, size_t max, struct diag *d)
{
	struct {
		const char *origin;
		const void *elf;
		size_t sz;
	} b[3];
	int err;

	if (max < 3)
		return -ENOSPC;
	b[0].origin = "built-in stage dns";
	b[0].elf = stage_dns__elf_bytes(&b[0].sz);
	b[1].origin = "built-in stage https";
	b[1].elf = stage_https__elf_bytes(&b[1].sz);
	b[2].origin = "built-in stage internal";
	b[2].elf = stage_internal__elf_bytes(&b[2].sz);
	for (int i = 0; i < 3; i++) {
		err = stage_from_mem(b[i].origin, b[i].elf, b[i].sz, &out[i], d);
		if (err) {
			while (i--)
				stage_free(&out[i]);
			return err;
		}
	}
	return 3;
}

/* deletes every key of generation gen; the generation byte sits at gen_off in the key */
static int map_clear_gen(int fd, __u32 key_size, __u32 gen_off, __u32 gen)
{
	size_t n = 0, cap = 0;
	char *keys = NULL, *prev = NULL, *next = malloc(key_size);
	int err = 0;

	if (!next)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if ((__u8)next[gen_off] == gen) {
			if (n == cap) {
				char *k = realloc(keys, (cap = cap ? cap * 2 : 256) * key_size);

				if (!k) {
					err = -ENOMEM;
					goto out;
				}
				keys = k;
			}
			memcpy(keys + n++ * key_size, next, key_size);
		}
		if (!prev) {
			prev = malloc(key_size);
			if (!prev) {
				err = -ENOMEM;
				goto out;
			}
		}
		memcpy(prev, next, key_size);
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT && !err)
			err = -errno;
out:
	free(keys);
	free(prev);
	free(next);
	return err;
}

static void prog_array_clear_bank(int fd, __u32 gen)
{
	for (__u32 slot = 0; slot < STAGE_MAX_SLOTS; slot++) {
		__u32 idx = gen * STAGE_MAX_SLOTS + slot;

		bpf_map_delete_elem(fd, &idx);
	}
}

static void rules_key_info(const struct stage *st, __u32 *key_size, __u32 *gen_off)
{
	bool exact = st->desc.map_kind == STAGE_MAP_EXACT;

	*key_size = exact ? sizeof(struct policy_key) : sizeof(struct policy_lpm_key);
	*gen_off = exact ? 0 : offsetof(struct policy_lpm_key, k.gen);
}

static int shared_map_fd(struct txn *t, const char *map_name);

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
static void txn_clear_gen(struct txn *t, const struct install_req *rq, __u32 gen)
{
	classes_write_gen(bpf_map__fd(t->skel->maps.classes), gen, NULL);
	map_clear_gen(bpf_map__fd(t->skel->maps.sources), sizeof(struct source_key),
		      offsetof(struct source_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.audit_tools), sizeof(struct audit_tool_key),
		      offsetof(struct audit_tool_key, gen), gen);
	dns_maps_clear_gen(bpf_map__fd(t->skel->maps.dns_names),
			   bpf_map__fd(t->skel->maps.dns_qtypes), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_names), sizeof(struct dns_name_key),
		      offsetof(struct dns_name_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_rules), sizeof(struct learn_rule_key),
		      offsetof(struct learn_rule_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.learn_resolvers), sizeof(struct learn_resolver_key),
		      offsetof(struct learn_resolver_key, gen), gen);
	for (int h = 0; h < NR_STAGE_HOOKS; h++)
		prog_array_clear_bank(shared_map_fd(t, stage_hooks[h].banks), gen);
	for (size_t i = 0; i < t->nr_ls; i++) {
		__u32 ks, off;

		rules_key_info(&rq->stages[i], &ks, &off);
		map_clear_gen(t->ls[i].rules_fd, ks, off, gen);
	}
}

/*
 * The tc program always (status and tests use it), the cgroup ones when a
 * cgroup is attached: every program loaded is one more for the verifier at
 * every install. A dry run needs only what BPF_PROG_TEST_RUN can run.
 */
static bool hook_loaded(const struct txn *t, const char *prog)
{
	if (!strcmp(prog, "dispatch_tc") || !strcmp(prog, STAGE_PROG_TC))
		return true;
	if (!strcmp(prog, "dispatch_xdp") || !strcmp(prog, "stage_xdp"))
		return t->xdp_hooks;
	if (!strcmp(prog, "learn_tc"))
		return !t->dry_run;
	if (t->dry_run)
		return t->cgroup_hooks &&
		       (!strcmp(prog, "dispatch_cgskb") || !strcmp(prog, "stage_cgskb"));
	return t->cgroup_hooks;
}

/* a pinned map has the type and sizes the object declares for it */
static bool same_shape(int fd, const struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries == bpf_map__max_entries(m);
}

static int open_dispatcher(struct txn *t, const char *name, size_t nr_rules, struct diag *d)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	t->skel = dispatcher__open();
	if (!t->skel) {
		diag_error(d, NULL, 0, "cannot open the dispatcher object: %s", strerror(errno));
		return -errno;
	}
	if (t->existing) {
		bpf_object__for_each_map(m, t->skel->obj) {
			int fd;

			for (size_t i = 0; i < NR_SHARED_MAPS; i++) {
				if (strcmp(bpf_map__name(m), shared_maps[i]))
					continue;
				if (t->dry_run && !strncmp(shared_maps[i], "stages_", 7))
					continue; /* its own banks, holding its own stages */
				fd = pipeline_pin_get(name, shared_maps[i]);
				if (fd == -ENOENT && !strcmp(shared_maps[i], "stages_xdp")) {
					t->pin_xdp_bank = true;
					continue;
				}
				if (fd == -ENOENT && !strncmp(shared_maps[i], "learn", 5)) {
					t->pin_late = true;
					continue;
				}
				if (fd < 0) {
					diag_error(d, NULL, 0,
						   "instance '%s': pinned map '%s' missing: %s",
						   name, shared_maps[i], strerror(-fd));
					return fd;
				}
				err = same_shape(fd, m) ? bpf_map__reuse_fd(m, fd) : -EPROTO;
				close(fd);
				if (err == -EPROTO) {
					diag_error(d, NULL, 0,
						   "instance '%s' was installed by another build of "
						   "ironclaw-pipe (its map '%s' has another shape): "
						   "block it, uninstall it and install it again",
						   name, shared_maps[i]);
					return err;
				}
				if (err) {
					diag_error(d, NULL, 0,
						   "instance '%s': cannot reuse map '%s': %s", name,
						   shared_maps[i], strerror(-err));
					return err;
				}
			}
		}
	}
	bpf_object__for_each_program(p, t->skel->obj)
		bpf_program__set_autoload(p, hook_loaded(t, bpf_program__name(p)));
	t->skel->rodata->dry_run = t->dry_run;
	t->skel->rodata->dry_tool = t->dry_tool;
	/* a new counter per rule of this profile; the old generation keeps counting into its own */
	err = bpf_map__set_max_entries(t->skel->maps.rule_counts, nr_rules ? nr_rules : 1);
	if (!err)
		err = dispatcher__load(t->skel);
	if (err) {
		diag_error(d, NULL, 0,
			   "cannot load the dispatcher (kernel BTF, BPF and tcx needed): %s",
			   strerror(-err));
		return err;
	}
	return 0;
}

static int shared_map_fd(struct txn *t, const char *map_name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->skel->obj, map_name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/* entries a rule map is created for: room for the running and the next generation */
static __u32 rules_map_size(size_t needed)
{
	__u32 n = RULES_MAP_MIN;

	while (n < 2 * needed && n < 2 * PLAN_MAX_STAGE_ENTRIES)
		n <<= 1;
	return n;
}

/* the pinned map has the shape m wants and can take the next generation beside what it holds */
static bool rules_map_fits(int fd, const struct bpf_map *m, size_t needed)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	__u64 held = 0;
	char prev[64], next[64];
	bool first = true;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size > sizeof(next))
		return false;
	if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) || info.map_flags != bpf_map__map_flags(m))
		return false; /* the stage's rule map changed shape: a new map replaces it */
	while (!bpf_map_get_next_key(fd, first ? NULL : prev, next)) {
		held++;
		memcpy(prev, next, info.key_size);
		first = false;
	}
	return held + needed <= info.max_entries;
}

/* sets the read-only global dry_run of an object that is not loaded yet */
static int object_set_dry_run(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const void *init;
	__u8 *data;
	size_t sz;
	int id, err;

	if (!m || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	init = bpf_map__initial_value(m, &sz);
	if (id < 0 || !init)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (__u16 i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), "dry_run") ||
		    vs->size != sizeof(__u32) || vs->offset + sizeof(__u32) > sz)
			continue;
		data = malloc(sz);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, sz);
		*(__u32 *)(data + vs->offset) = 1;
		err = bpf_map__set_initial_value(m, data, sz);
		free(data);
		return err;
	}
	return -ENOENT;
}

static int load_stage(struct txn *t, const char *name, const struct stage *st, size_t needed,
		      struct loaded_stage *ls, struct diag *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = st->desc.name);
	char rules_pin[64];
	struct bpf_map *m;
	int err, fd;

	ls->rules_fd = -1;
	ls->obj = bpf_object__open_mem(st->elf, st->elf_sz, &opts);
	if (!ls->obj) {
		diag_error(d, st->origin, 0, "cannot open stage object: %s", strerror(errno));
		return -errno;
	}
	pin_name_rules(rules_pin, sizeof(rules_pin), st->desc.name);
	bpf_object__for_each_map(m, ls->obj) {
		const char *mn = bpf_map__name(m);

		err = 0;
		if (!strcmp(mn, STAGE_DESC_SECTION) || bpf_map__is_internal(m)) {
			continue; /* data of this object alone (.rodata: dry_run) */
		} else if (!strcmp(mn, STAGE_RULES_MAP)) {
			fd = pipeline_pin_get(name, rules_pin);
			if (t->dry_run && fd < 0) {
				diag_error(d, st->origin, 0, "stage '%s': pinned map '%s' missing: %s",
					   st->desc.name, rules_pin, strerror(-fd));
				return fd;
			}
			if (fd >= 0 && (t->dry_run || rules_map_fits(fd, m, needed))) {
				err = bpf_map__reuse_fd(m, fd);
			} else {
				/* sized for both generations; the old map leaves with the old stage */
				ls->rules_replaced = fd >= 0;
				err = bpf_map__set_max_entries(m, rules_map_size(needed));
			}
			if (fd >= 0)
				close(fd);
		} else {
			fd = shared_map_fd(t, mn);
			if (fd < 0) {
				diag_error(
					d, st->origin, 0,
					"stage '%s' uses map '%s', which the pipeline does not share",
					st->desc.name, mn);
				return -EINVAL;
			}
			err = bpf_map__reuse_fd(m, fd);
		}
		if (err) {
			diag_error(d, st->origin, 0, "stage '%s': map '%s' cannot be shared: %s",
				   st->desc.name, mn, strerror(-err));
			return err;
		}
	}
	for (int h = 0; h < NR_STAGE_HOOKS; h++) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(ls->obj, stage_hooks[h].stage_prog);

		if (!p && !hook_loaded(t, stage_hooks[h].stage_prog))
			continue;
		if (!p) {
			diag_error(d, st->origin, 0,
				   "stage '%s' has no '%s' program (built with an older lib/stage.h?)",
				   st->desc.name, stage_hooks[h].stage_prog);
			return -EINVAL;
		}
		bpf_program__set_autoload(p, hook_loaded(t, stage_hooks[h].stage_prog));
	}
	err = t->dry_run ? object_set_dry_run(ls->obj) : 0;
	if (err) {
		diag_error(d, st->origin, 0,
			   "stage '%s' has no dry_run setting (built with an older lib/stage.h?): "
			   "rebuild it",
			   st->desc.name);
		return err;
	}
	err = bpf_object__load(ls->obj);
	if (err) {
		diag_error(d, st->origin, 0,
			   "cannot load stage '%s' (maps must match the instance's): %s",
			   st->desc.name, strerror(-err));
		return err;
	}
	for (int h = 0; h < NR_STAGE_HOOKS; h++)
		ls->prog_fds[h] = hook_loaded(t, stage_hooks[h].stage_prog) ?
					  bpf_program__fd(bpf_object__find_program_by_name(
						  ls->obj, stage_hooks[h].stage_prog)) :
					  -1;
	ls->rules_fd = bpf_map__fd(bpf_object__find_map_by_name(ls->obj, STAGE_RULES_MAP));
	return 0;
}

static int fill_rules(struct txn *t, const struct install_req *rq, struct diag *d)
{
	const struct plan *pl = rq->plan;

	for (size_t i = 0; i < pl->nr_entries; i++) {
		const struct plan_entry *e = &pl->entries[i];
		const struct rule *r = &rq->profile->rules[e->rule];

		if (rq->progress && i % 65536 == 0)
			rq->progress(i, pl->nr_entries);
		const struct stage *st = &rq->stages[e->stage];
		struct policy_value v = { .rule_id = e->rule };
		struct policy_lpm_key lk = {};
		struct policy_key *k = &lk.k;
		void *key = k;

		k->gen = t->gen;
		k->tool = r->tool_id;
		k->l4proto = r->l4proto;
		k->dport = htons(e->port);
		k->family = r->dst.family;
		memcpy(k->daddr, r->dst.bytes, sizeof(k->daddr));
		if (st->desc.map_kind == STAGE_MAP_PREFIX) {
			lk.prefixlen = POLICY_LPM_FIXED_BITS + r->dst.plen;
			key = &lk;
		}
		if (bpf_map_update_elem(t->ls[e->stage].rules_fd, key, &v, BPF_NOEXIST)) {
			diag_error(d, r->file, r->line, "cannot add rule to stage '%s': %s",
				   st->desc.name, strerror(errno));
			return -errno;
		}
		if (!t->xdp_hooks || !r->tool_id)
			continue;
		/* for XDP, which knows no tool: some tool may send there, tc ingress decides */
		k->tool = POLICY_TOOL_UNKNOWN;
		v.flags = POLICY_F_TOOL_RULE;
		if (bpf_map_update_elem(t->ls[e->stage].rules_fd, key, &v, BPF_ANY)) {
			diag_error(d, r->file, r->line, "cannot add rule to stage '%s' for XDP: %s",
				   st->desc.name, strerror(errno));
			return -errno;
		}
	}
	if (rq->progress)
		rq->progress(pl->nr_entries, pl->nr_entries);
	return 0;
}

static struct learn_fds txn_learn_fds(struct txn *t)
{
	return (struct learn_fds){
		.names = bpf_map__fd(t->skel->maps.learn_names),
		.rules = bpf_map__fd(t->skel->maps.learn_rules),
		.resolvers = bpf_map__fd(t->skel->maps.learn_resolvers),
		.config = bpf_map__fd(t->skel->maps.learn_config),
		.learned = bpf_map__fd(t->skel->maps.learned),
		.slots = bpf_map__fd(t->skel->maps.learn_slots),
		.flows = bpf_map__fd(t->skel->maps.learn_flows),
	};
}

static int fill(struct txn *t, const struct install_req *rq, struct diag *d)
{
	int classes = bpf_map__fd(t->skel->maps.classes);
	int sources = bpf_map__fd(t->skel->maps.sources);
	struct gen_config cfg = { .tool_level = rq->tool_level,
				  .flags = (rq->has_tools ? GEN_HAS_TOOLS : 0) |
					   (rq->audit_all ? GEN_AUDIT : 0) |
					   (rq->profile->nr_dns_names ? GEN_DNS_NAMES : 0) |
					   (rq->profile->nr_name_rules ? GEN_LEARN : 0),
				  .audit_slots = rq->audit_slots };
	struct class_value *ports;
	__u32 one = 1, gen = t->gen;
	int err;

	for (size_t i = 0; i < rq->profile->nr_audits; i++) {
		const struct audit_line *a = &rq->profile->audits[i];
		struct audit_tool_key k = { .tool = a->tool_id, .gen = t->gen };

		if (a->tool)
			cfg.flags |= GEN_AUDIT_TOOLS;
		if (a->tool && a->tool_id &&
		    bpf_map_update_elem(bpf_map__fd(t->skel->maps.audit_tools), &k, &one, BPF_ANY)) {
			diag_error(d, a->file, a->line, "cannot put tool '%s' in audit mode: %s",
				   a->name, strerror(errno));
			return -errno;
		}
	}
	/* a few single addresses go in the settings, compared in place; else the trie */
	for (size_t i = 0; i < rq->nr_sources; i++) {
		if (!addr_is_single(&rq->sources[i]) || cfg.nr_sources == GEN_INLINE_SOURCES) {
			cfg.flags |= GEN_SOURCE_MAP;
			continue;
		}
		cfg.src[cfg.nr_sources].family = rq->sources[i].family;
		memcpy(cfg.src[cfg.nr_sources++].addr, rq->sources[i].bytes, 16);
	}
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.config), &gen, &cfg, BPF_ANY)) {
		diag_error(d, NULL, 0, "cannot write the generation's settings: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < rq->nr_sources; i++) {
		struct source_key k = {
			.prefixlen = SOURCE_LPM_FIXED_BITS + rq->sources[i].plen,
			.gen = t->gen,
			.family = rq->sources[i].family,
		};

		memcpy(k.addr, rq->sources[i].bytes, sizeof(k.addr));
		if (bpf_map_update_elem(sources, &k, &one, BPF_ANY)) {
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
			struct class_value *proto = ports + (c->l4proto == IPPROTO_UDP) * CLASS_PORTS;
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

		for (int h = 0; h < NR_STAGE_HOOKS; h++) {
			int banks = shared_map_fd(t, stage_hooks[h].banks);

			if (t->ls[i].prog_fds[h] < 0)
				continue; /* that hook is attached nowhere */
			if (bpf_map_update_elem(banks, &idx, &t->ls[i].prog_fds[h], BPF_ANY)) {
				diag_error(d, NULL, 0, "cannot put stage '%s' in slot %u of %s: %s",
					   rq->stages[i].desc.name, rq->stages[i].desc.slot,
					   stage_hooks[h].banks, strerror(errno));
				return -errno;
			}
		}
	}
	err = fill_rules(t, rq, d);
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

static int dispatcher_prog(struct txn *t, enum link_hook hook)
{
	struct bpf_program *p =
		bpf_object__find_program_by_name(t->skel->obj, link_hooks[hook].dispatcher);

	return p ? bpf_program__fd(p) : -ENOENT;
}

static int attach_hook(struct txn *t, const struct attach_point *pt, enum link_hook hook,
		       struct diag *d)
{
	int prog = dispatcher_prog(t, hook), saved, idx, fd;
	char path[CGROUP_PATH_MAX + 256], mnt[256];

	if (pt->kind == ATTACH_CGROUP) {
		if (cgroup2_mount(mnt, sizeof(mnt))) {
			diag_error(d, NULL, 0, "no cgroup v2 hierarchy is mounted");
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/%s", mnt, pt->cgroup);
		fd = link_cgroup_attach(prog, path, link_hooks[hook].attach_type);
		if (fd < 0)
			diag_error(d, NULL, 0, "cannot attach %s to cgroup %s: %s",
				   link_hooks[hook].name, path, strerror(-fd));
		return fd;
	}
	fd = netns_enter(pt->netns, &saved, d);
	if (fd)
		return fd;
	idx = netns_ifindex(pt->ifname);
	if (idx < 0) {
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
		fd = idx;
	} else if (pt->kind == ATTACH_XDP) {
		fd = xdp_entry_attach(idx, t->xdp_map, pt->ifname, t->xdp_generic, d);
	} else {
		bool ingress = link_hooks[hook].attach_type == TCX_ATTACH_INGRESS;

		fd = link_tcx_attach(prog, idx, ingress);
		if (fd < 0)
			diag_error(d, NULL, 0,
				   "cannot attach %s to %s of '%s' (tcx needs kernel >= 6.6): %s",
				   link_hooks[hook].dispatcher, ingress ? "tc ingress" : "tc egress",
				   pt->ifname, strerror(-fd));
	}
	netns_leave(saved);
	return fd;
}

static int pin_fd(struct txn *t, int fd, const char *object, struct diag *d)
{
	char path[PIN_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->dir, object);
	unlink(path);
	if (bpf_obj_pin(fd, path)) {
		diag_error(d, NULL, 0, "cannot pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

enum xdp_attach_how pipeline_xdp_state(const char *name, const char *pin,
				       const struct attach_point *pt, __u32 *prog_id, int *ifindex,
				       bool *generic)
{
	struct bpf_prog_info info = {};
	enum xdp_attach_how how = XDP_HOW_NONE;
	__u32 len = sizeof(info);
	struct diag d = {};
	int fd = pipeline_pin_get(name, pin), saved, idx = -1;

	*prog_id = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		*prog_id = info.id;
	if (fd >= 0)
		close(fd);
	if (*prog_id && !netns_enter(pt->netns, &saved, &d)) {
		idx = netns_ifindex(pt->ifname);
		if (idx > 0)
			how = xdp_entry_state(idx, *prog_id, generic);
		netns_leave(saved);
	}
	diag_free(&d);
	if (ifindex)
		*ifindex = idx;
	return how;
}

/* the pinned link still has its interface or cgroup */
static bool link_pin_live(const char *path)
{
	struct link_state st;
	int fd = bpf_obj_get(path);
	bool live;

	if (fd < 0)
		return false;
	live = !link_state(fd, &st) && link_live(&st);
	close(fd);
	return live;
}

static int remember_new_link(struct txn *t, int fd, const char *path)
{
	int *l = realloc(t->new_links, (t->nr_new_links + 1) * sizeof(*l));
	char(*p)[PIN_PATH_MAX];

	if (!l)
		return -ENOMEM;
	t->new_links = l;
	p = realloc(t->new_link_pins, (t->nr_new_links + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->new_link_pins = p;
	t->new_links[t->nr_new_links] = fd;
	snprintf(t->new_link_pins[t->nr_new_links++], PIN_PATH_MAX, "%s", path);
	return 0;
}

/* an XDP attachment (no link: it stays until detached), to detach on a rollback */
static int remember_new_xdp(struct txn *t, const struct attach_point *pt, int prog_fd)
{
	struct attach_point *p = realloc(t->xdp_new, (t->nr_xdp_new + 1) * sizeof(*p));
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), *ids;

	if (!p)
		return -ENOMEM;
	t->xdp_new = p;
	ids = realloc(t->xdp_new_ids, (t->nr_xdp_new + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	t->xdp_new_ids = ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	t->xdp_new[t->nr_xdp_new] = *pt;
	t->xdp_new_ids[t->nr_xdp_new++] = info.id;
	return 0;
}

/* 0 when prog_id is no longer attached at the point (or the interface is gone) */
static int xdp_detach_point(const struct attach_point *pt, __u32 prog_id)
{
	struct diag d = {};
	int saved, idx, err;

	err = netns_enter(pt->netns, &saved, &d);
	if (!err) {
		idx = netns_ifindex(pt->ifname);
		if (idx > 0)
			err = xdp_entry_detach(idx, prog_id);
		netns_leave(saved);
	}
	diag_free(&d);
	return err == -ENOENT ? 0 : err; /* the namespace is gone, and the interface with it */
}

/*
 * xdp_dispatch[0] := the new XDP dispatcher (before the flip, like the links:
 * it reads the control word itself). Creates the map for the first XDP point.
 */
static int update_xdp_dispatch(struct txn *t, const char *name, struct diag *d)
{
	int prog = bpf_program__fd(t->skel->progs.dispatch_xdp);
	__u32 zero = 0, old_id = 0;

	t->xdp_map = pipeline_pin_get(name, "xdp_dispatch");
	if (t->xdp_map < 0) {
		t->xdp_map = xdp_dispatch_map_create();
		t->xdp_map_new = true;
	}
	if (t->xdp_map < 0) {
		diag_error(d, NULL, 0, "cannot create the XDP dispatch map: %s",
			   strerror(-t->xdp_map));
		return t->xdp_map;
	}
	if (!t->xdp_map_new && !bpf_map_lookup_elem(t->xdp_map, &zero, &old_id))
		t->xdp_old_dispatcher = bpf_prog_get_fd_by_id(old_id);
	if (bpf_map_update_elem(t->xdp_map, &zero, &prog, BPF_ANY)) {
		diag_error(d, NULL, 0, "cannot put the XDP dispatcher in place: %s",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

/* attaches the points no live link of this instance covers yet */
static int attach_new_points(struct txn *t, const struct install_req *rq, struct diag *d)
{
	for (size_t i = 0; i < rq->nr_points; i++) {
		enum link_hook hooks[ATTACH_MAX_HOOKS];
		size_t nh = attach_point_hooks(&rq->points[i], hooks);

		for (size_t hi = 0; hi < nh; hi++) {
			enum link_hook h = hooks[hi];
			char pin[PIN_NAME_MAX], path[PIN_PATH_MAX];
			struct stat sb;
			int fd, err;

			/*
			 * learn answers in the sandbox only when nothing is host-side: with
			 * CAP_NET_ADMIN in its namespace the sandbox can put frames on its
			 * own interface's ingress, and the host side would trust them too
			 */
			if (h == LINK_LEARN_INGRESS && t->host_side_tc)
				continue;
			pin_name_link(pin, sizeof(pin), &rq->points[i], h);
			if (!pin[0]) {
				diag_error(d, NULL, 0, "cgroup path '%s' is too long to name its pin",
					   rq->points[i].cgroup);
				return -ENAMETOOLONG;
			}
			snprintf(path, sizeof(path), "%s/%s", t->dir, pin);
			if (h == LINK_XDP && !stat(path, &sb)) {
				__u32 id;

				if (pipeline_xdp_state(rq->name, pin, &rq->points[i], &id, NULL, NULL) !=
				    XDP_HOW_NONE)
					continue; /* attached; xdp_dispatch holds the new dispatcher */
			} else if (!stat(path, &sb) && link_pin_live(path)) {
				continue; /* already attached there; moved to the new dispatcher */
			}
			unlink(path); /* a pin of a link whose interface is gone: attach anew */
			fd = attach_hook(t, &rq->points[i], h, d);
			if (fd < 0)
				return fd;
			if (h == LINK_XDP) {
				err = remember_new_xdp(t, &rq->points[i], fd);
				if (err) {
					/* not on the rollback's list: detach it here */
					struct bpf_prog_info info = {};
					__u32 len = sizeof(info);

					if (!bpf_obj_get_info_by_fd(fd, &info, &len))
						xdp_detach_point(&rq->points[i], info.id);
					close(fd);
					return err;
				}
			}
			err = remember_new_link(t, fd, path);
			if (err) {
				close(fd);
				return err;
			}
			if (bpf_obj_pin(fd, path)) {
				diag_error(d, NULL, 0, "cannot pin %s: %s", path, strerror(errno));
				t->new_link_pins[t->nr_new_links - 1][0] = '\0';
				return -errno;
			}
		}
	}
	return 0;
}

/* moves every live link of the instance to the new dispatcher; drops links whose target is gone */
static int update_links(struct txn *t, const char *name, struct diag *d)
{
	struct dirent *de;
	DIR *dir = opendir(t->dir);
	int err = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct attach_point pt;
		enum link_hook hook;
		struct link_state st;
		int fd, *u, *o;

		if (pin_parse_link(de->d_name, &pt, &hook) || hook == LINK_XDP)
			continue; /* XDP: xdp_dispatch moves to the new dispatcher */
		fd = pipeline_pin_get(name, de->d_name);
		if (fd < 0)
			continue;
		if (hook == LINK_LEARN_INGRESS && t->host_side_tc) {
			char path[PIN_PATH_MAX];

			/* a host-side point came: stop learning from inside the sandbox */
			snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
			bpf_link_detach(fd);
			unlink(path);
			close(fd);
			continue;
		}
		if (link_state(fd, &st) || !link_live(&st)) {
			char path[PIN_PATH_MAX];

			diag_warn(d, NULL, 0, "attachment %s was lost (its target is gone); removed",
				  de->d_name + strlen(PIN_LINK_PREFIX));
			snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
			unlink(path);
			close(fd);
			continue;
		}
		u = realloc(t->updated_links, (t->nr_updated + 1) * sizeof(int));
		o = u ? realloc(t->updated_old_progs, (t->nr_updated + 1) * sizeof(int)) : NULL;
		if (u)
			t->updated_links = u;
		if (o)
			t->updated_old_progs = o;
		if (!u || !o) {
			close(fd);
			err = -ENOMEM;
			break;
		}
		if (bpf_link_update(fd, dispatcher_prog(t, hook), NULL)) {
			err = -errno;
			diag_error(d, NULL, 0, "cannot move attachment %s to the new dispatcher: %s",
				   de->d_name + strlen(PIN_LINK_PREFIX), strerror(errno));
			close(fd);
			break;
		}
		t->updated_links[t->nr_updated] = fd;
		t->updated_old_progs[t->nr_updated++] = bpf_prog_get_fd_by_id(st.prog_id);
	}
	closedir(dir);
	return err;
}

/*
 * Waits until no program can still be running with the old generation: tc
 * programs run inside RCU read-side sections, and membarrier(GLOBAL) returns
 * after synchronize_rcu(). Without it, a sleep far longer than any packet.
 */
static void wait_for_old_generation(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = SWAP_GRACE_MS * 1000000L };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	nanosleep(&ts, NULL);
}

/* unpins stage programs and rule maps of stages that are no longer in the profile */
static void unpin_removed_stages(struct txn *t, const struct install_req *rq)
{
	struct dirent *de;
	DIR *dir = opendir(t->dir);

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char sn[STAGE_NAME_LEN + 8], path[PIN_PATH_MAX];
		bool keep = false;

		if (!strncmp(de->d_name, PIN_RULES_PREFIX, strlen(PIN_RULES_PREFIX)))
			snprintf(sn, sizeof(sn), "%s", de->d_name + strlen(PIN_RULES_PREFIX));
		else if (pin_parse_stage(de->d_name, sn, sizeof(sn)))
			continue;
		for (size_t i = 0; i < rq->nr_stages; i++)
			keep |= !strcmp(sn, rq->stages[i].desc.name);
		if (keep)
			continue;
		/* its old-generation entries go with the map, its program left the slot */
		snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
		unlink(path);
	}
	closedir(dir);
}

static void lock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/run/lock/ironclaw-pipe.%s.lock", name);
}

/* an instance that is gone takes its lock file with it (removed while held) */
static void lock_remove(const char *name)
{
	char path[128];

	lock_path(path, sizeof(path), name);
	unlink(path);
	snprintf(path, sizeof(path), "/run/lock/ironclaw-pipe.%s.log.lock", name);
	unlink(path); /* what 'log' locks (events.c) */
}

void pipeline_state_path(char *buf, size_t len, const char *name, const char *suffix)
{
	snprintf(buf, len, "%s/%s%s", PIPELINE_STATE_DIR, name, suffix);
}

void pipeline_rule_list_path(char *buf, size_t len, const char *name)
{
	pipeline_state_path(buf, len, name, ".rules");
}

/*
 * The installed rules, one a line (counts.h): number, stage, file, line,
 * what the same rule counted before, text. The counters in rule_counts are
 * indexed by the number. Written beside, then renamed over the old list, so
 * a reader sees one profile or the other. Written just after the switch: the
 * old generation's last in-flight packets may miss the carried counts.
 */
static int write_rule_list(const struct install_req *rq, const struct counts_snapshot *old,
			   struct diag *d)
{
	struct pkt_count carried;
	const struct plan *pl = rq->plan;
	char path[PIN_PATH_MAX], tmp[PIN_PATH_MAX + 8];
	size_t e = 0;
	FILE *f;

	mkdir(PIPELINE_STATE_DIR, 0755);
	pipeline_rule_list_path(path, sizeof(path), rq->name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f) {
		diag_error(d, NULL, 0, "cannot write %s: %s", tmp, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < rq->profile->nr_rules; i++) {
		const struct rule *r = &rq->profile->rules[i];

		while (e < pl->nr_entries && pl->entries[e].rule < i)
			e++;
		counts_carried_over(old, r->file, r->text, &carried);
		rule_list_write(f, i,
				e < pl->nr_entries ? rq->stages[pl->entries[e].stage].desc.name : "?",
				r->file, r->line, &carried, r->text);
	}
	/* the name rules count after the address rules */
	for (size_t i = 0; i < rq->profile->nr_dns_names; i++) {
		const struct dns_name_rule *r = &rq->profile->dns_names[i];

		counts_carried_over(old, r->file, r->text, &carried);
		rule_list_write(f, rq->profile->nr_rules + i, "dns", r->file, r->line, &carried,
				r->text);
	}
	for (size_t i = 0; i < rq->profile->nr_name_rules; i++) {
		const struct name_rule *r = &rq->profile->name_rules[i];

		counts_carried_over(old, r->file, r->text, &carried);
		rule_list_write(f, learn_rule_id(rq->profile, i),
				rq->stages[pl->name_stages[i]].desc.name, r->file, r->line, &carried,
				r->text);
	}
	if (fclose(f) || rename(tmp, path)) {
		diag_error(d, NULL, 0, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -errno;
	}
	return 0;
}

/* the instance's files in PIPELINE_STATE_DIR: rule list, settings, live edits */
static void remove_state(const char *name)
{
	char path[PIN_PATH_MAX];
	struct dirent *de;
	DIR *dd;

	pipeline_rule_list_path(path, sizeof(path), name);
	unlink(path);
	pipeline_state_path(path, sizeof(path), name, ".conf");
	unlink(path);
	pipeline_state_path(path, sizeof(path), name, ".d");
	dd = opendir(path);
	while (dd && (de = readdir(dd))) {
		char f[PIN_PATH_MAX + 256];

		if (de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		unlink(f);
	}
	if (dd)
		closedir(dd);
	rmdir(path);
	rmdir(PIPELINE_STATE_DIR);
}

static int lock_instance(const char *name, struct diag *d)
{
	char path[128];
	int fd;

	mkdir("/run/lock", 0755);
	lock_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		diag_error(d, NULL, 0, "cannot lock instance '%s' (%s): %s", name, path,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

static void unpin_instance_dir(const char *dir)
{
	struct dirent *de;
	DIR *dd = opendir(dir);

	if (!dd)
		return;
	while ((de = readdir(dd))) {
		char path[PIN_PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(dd);
	rmdir(dir);
}

static void txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->nr_ls; i++)
		bpf_object__close(t->ls[i].obj);
	free(t->ls);
	for (size_t i = 0; i < t->nr_new_links; i++)
		close(t->new_links[i]);
	free(t->new_links);
	free(t->new_link_pins);
	for (size_t i = 0; i < t->nr_updated; i++) {
		close(t->updated_links[i]);
		if (t->updated_old_progs[i] >= 0)
			close(t->updated_old_progs[i]);
	}
	free(t->updated_links);
	free(t->updated_old_progs);
	if (t->xdp_map >= 0)
		close(t->xdp_map);
	if (t->xdp_old_dispatcher >= 0)
		close(t->xdp_old_dispatcher);
	free(t->xdp_new);
	free(t->xdp_new_ids);
	dispatcher__destroy(t->skel);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
}

/* a failed install over a running instance: put everything back as it was */
static void txn_rollback_existing(struct txn *t, const struct install_req *rq)
{
	__u32 zero = 0;

	for (size_t i = 0; i < t->nr_updated; i++)
		if (t->updated_old_progs[i] >= 0)
			bpf_link_update(t->updated_links[i], t->updated_old_progs[i], NULL);
	for (size_t i = 0; i < t->nr_xdp_new; i++)
		xdp_detach_point(&t->xdp_new[i], t->xdp_new_ids[i]);
	if (t->xdp_map >= 0 && t->xdp_old_dispatcher >= 0)
		bpf_map_update_elem(t->xdp_map, &zero, &t->xdp_old_dispatcher, BPF_ANY);
	if (t->xdp_map_new) {
		char path[PIN_PATH_MAX];

		snprintf(path, sizeof(path), "%s/xdp_dispatch", t->dir);
		unlink(path);
	}
	for (size_t i = 0; i < t->nr_new_links; i++) {
		if (t->new_link_pins[i][0])
			unlink(t->new_link_pins[i]);
	}
	if (t->skel && t->ls)
		txn_clear_gen(t, rq, t->gen);
	for (size_t i = 0; i < t->nr_ls; i++) {
		char path[PIN_PATH_MAX], obj[PIN_NAME_MAX];

		if (!t->ls[i].rules_pinned_here)
			continue;
		pin_name_rules(obj, sizeof(obj), rq->stages[i].desc.name);
		snprintf(path, sizeof(path), "%s/%s", t->dir, obj);
		unlink(path);
	}
}

/* pins rule maps that have no pin yet; after the flip, also the ones that replace a pin */
static int pin_stages(struct txn *t, const struct install_req *rq, bool flipped, struct diag *d)
{
	for (size_t i = 0; i < t->nr_ls; i++) {
		char obj[64], path[PIN_PATH_MAX];
		struct stat sb;
		int err;

		pin_name_rules(obj, sizeof(obj), rq->stages[i].desc.name);
		snprintf(path, sizeof(path), "%s/%s", t->dir, obj);
		if (flipped && t->ls[i].rules_replaced) {
			err = pin_fd(t, t->ls[i].rules_fd, obj, d);
			if (err)
				return err;
		} else if (!flipped && stat(path, &sb)) {
			err = pin_fd(t, t->ls[i].rules_fd, obj, d);
			if (err)
				return err;
			t->ls[i].rules_pinned_here = true;
		}
	}
	return 0;
}

static int pin_stage_progs(struct txn *t, const struct install_req *rq, struct diag *d)
{
	int err = pin_fd(t, bpf_program__fd(t->skel->progs.dispatch_tc), "dispatch_tc", d);

	if (!err && t->xdp_hooks)
		err = pin_fd(t, bpf_program__fd(t->skel->progs.dispatch_xdp), "dispatch_xdp", d);

	if (!err)
		err = pin_fd(t, bpf_program__fd(t->skel->progs.learn_tc), "learn_tc", d);

	if (!err)
		err = pin_fd(t, bpf_map__fd(t->skel->maps.rule_counts), "rule_counts", d);

	for (size_t i = 0; !err && i < t->nr_ls; i++) {
		char obj[64];

		pin_name_stage(obj, sizeof(obj), rq->stages[i].desc.name);
		err = pin_fd(t, t->ls[i].prog_fds[STAGE_HOOK_TC], obj, d);
	}
	return err;
}

/* the attach points of the install and the instance's links; count, at most max */
static size_t all_points(const char *dir, const struct install_req *rq, struct attach_point *out,
			 size_t max)
{
	enum link_hook hook;
	struct dirent *de;
	size_t n = 0;
	DIR *dd;

	for (size_t i = 0; i < rq->nr_points && n < max; i++)
		out[n++] = rq->points[i];
	dd = opendir(dir);
	while (dd && n < max && (de = readdir(dd)))
		n += !pin_parse_link(de->d_name, &out[n], &hook);
	if (dd)
		closedir(dd);
	return n;
}

static bool kind_attached(const struct attach_point *p, size_t n, enum attach_kind kind)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].kind == kind)
			return true;
	return false;
}

/*
 * XDP knows no tool: a profile with tool rules needs tc ingress on each XDP
 * interface, which decides what only a tool rule allows (tool_deferred), and
 * XDP in skb mode, which leaves the packet its socket for tc ingress to read.
 */
static int xdp_tools_covered(const struct attach_point *p, size_t n, const struct install_req *rq,
			     struct diag *d)
{
	for (size_t i = 0; rq->has_tools && i < n; i++) {
		char pin[PIN_NAME_MAX];
		bool covered = false, generic;
		__u32 id;

		if (p[i].kind != ATTACH_XDP)
			continue;
		pin_name_link(pin, sizeof(pin), &p[i], LINK_XDP);
		if (pipeline_xdp_state(rq->name, pin, &p[i], &id, NULL, &generic) != XDP_HOW_NONE &&
		    !generic) {
			diag_error(d, NULL, 0,
				   "--xdp %s is attached in native mode, where a veth hands the "
				   "packet on without its socket, and the profile has rules for "
				   "tools, which need it: block, uninstall and install again (XDP "
				   "then goes in skb mode)",
				   p[i].ifname);
			return -EINVAL;
		}
		for (size_t j = 0; j < n; j++)
			covered |= p[j].kind == ATTACH_TC_INGRESS &&
				   !strcmp(p[j].ifname, p[i].ifname) && !strcmp(p[j].netns, p[i].netns);
		if (!covered) {
			diag_error(d, NULL, 0,
				   "--xdp %s: XDP sees no socket, so no tool, and the profile has "
				   "rules for tools: add --tc-ingress %s%s%s to enforce them",
				   p[i].ifname, p[i].ifname, p[i].netns[0] ? "@" : "", p[i].netns);
			return -EINVAL;
		}
	}
	return 0;
}

int pipeline_install(const struct install_req *rq, struct diag *d)
{
	struct txn t = { .lock_fd = -1, .xdp_map = -1, .xdp_old_dispatcher = -1 };
	struct counts_snapshot old_counts = { .counts_fd = -1 };
	struct attach_point *points = NULL;
	char ctl_path[PIN_PATH_MAX];
	size_t nr_points;
	struct stat sb;
	__u32 zero = 0, ctlw;
	bool flipped = false;
	int err;

	err = pipeline_bpffs_ensure(d);
	if (err)
		return err;
	mkdir(PIPELINE_ROOT, 0700);
	snprintf(t.dir, sizeof(t.dir), "%s/%s", PIPELINE_ROOT, rq->name);
	t.lock_fd = rq->lock_held ? -1 : lock_instance(rq->name, d);
	if (!rq->lock_held && t.lock_fd < 0)
		return t.lock_fd;
	pin_path(ctl_path, sizeof(ctl_path), rq->name, "ctl");
	t.existing = !stat(ctl_path, &sb);
	/* the running rules and their counters, carried over to the same rules after the switch */
	if (t.existing)
		counts_snapshot_take(rq->name, &old_counts);
	points = calloc(rq->nr_points + PIPELINE_MAX_LINKS, sizeof(*points));
	if (!points) {
		err = -ENOMEM;
		goto out;
	}
	nr_points = all_points(t.dir, rq, points, rq->nr_points + PIPELINE_MAX_LINKS);
	t.cgroup_hooks = kind_attached(points, nr_points, ATTACH_CGROUP);
	t.xdp_hooks = rq->xdp_programs || kind_attached(points, nr_points, ATTACH_XDP);
	t.xdp_generic = rq->has_tools;
	t.host_side_tc = kind_attached(points, nr_points, ATTACH_TC_INGRESS);
	err = xdp_tools_covered(points, nr_points, rq, d);
	if (!err && rq->profile->nr_name_rules && !kind_attached(points, nr_points, ATTACH_TC_INGRESS) &&
	    !kind_attached(points, nr_points, ATTACH_TC_EGRESS) && !rq->xdp_programs) {
		const struct name_rule *r = &rq->profile->name_rules[0];

		diag_error(d, r->file, r->line,
			   "name rules learn the resolver's answers at tc on the sandbox's link: "
			   "give --tc-ingress IFACE or --tc IFACE");
		err = -EINVAL;
	}
	if (err) {
		if (!t.existing)
			lock_remove(rq->name); /* refused before anything was made */
		goto out;
	}
	if (!t.existing)
		unpin_instance_dir(t.dir); /* leftovers of an interrupted run, if any */
	if (!t.existing && mkdir(t.dir, 0700) && errno != EEXIST) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot create %s: %s", t.dir, strerror(errno));
		goto out;
	}

	/* the DNS name rules count after the address rules */
	err = open_dispatcher(&t, rq->name,
			      rq->profile->nr_rules + rq->profile->nr_dns_names +
				      rq->profile->nr_name_rules,
			      d);
	if (err)
		goto fail;
	if (t.existing) {
		if (bpf_map_lookup_elem(bpf_map__fd(t.skel->maps.ctl), &zero, &t.old_ctl)) {
			err = -errno;
			diag_error(d, NULL, 0, "cannot read the control word of '%s': %s", rq->name,
				   strerror(errno));
			goto fail;
		}
		t.gen = !(t.old_ctl & CTL_GEN_MASK);
	}
	t.ls = calloc(rq->nr_stages + 1, sizeof(*t.ls));
	if (!t.ls) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < rq->nr_stages; i++) {
		t.nr_ls++;
		/* with XDP, each tool rule has a marker entry too */
		err = load_stage(&t, rq->name, &rq->stages[i],
				 rq->plan->stage_entries[i] * (t.xdp_hooks && rq->has_tools ? 2 : 1),
				 &t.ls[i], d);
		if (err)
			goto fail;
	}

	/* the next generation, built beside the running one */
	txn_clear_gen(&t, rq, t.gen);
	err = fill(&t, rq, d);
	if (err)
		goto fail;

	if (!t.existing) {
		ctlw = t.gen;
		if (bpf_map_update_elem(bpf_map__fd(t.skel->maps.ctl), &zero, &ctlw, BPF_ANY)) {
			err = -errno;
			goto fail;
		}
		for (size_t i = 0; i < NR_SHARED_MAPS; i++) {
			err = pin_fd(&t, shared_map_fd(&t, shared_maps[i]), shared_maps[i], d);
			if (err)
				goto fail;
		}
		err = pin_stages(&t, rq, false, d);
		if (!err)
			err = pin_stage_progs(&t, rq, d);
		if (!err && t.xdp_hooks)
			err = update_xdp_dispatch(&t, rq->name, d);
		if (!err && t.xdp_hooks)
			err = pin_fd(&t, t.xdp_map, "xdp_dispatch", d);
		if (!err)
			err = write_rule_list(rq, NULL, d);
		if (!err)
			err = attach_new_points(&t, rq, d); /* attach last */
		if (err)
			goto fail;
		goto out;
	}

	err = pin_stages(&t, rq, false, d);
	if (!err)
		err = update_links(&t, rq->name, d);
	if (!err && t.xdp_hooks)
		err = update_xdp_dispatch(&t, rq->name, d);
	if (!err && t.xdp_map_new)
		err = pin_fd(&t, t.xdp_map, "xdp_dispatch", d);
	if (!err)
		err = attach_new_points(&t, rq, d);
	if (err)
		goto fail;
	/* the switch: one word, read once per packet */
	/* an install ends a block; a reload or live edit of a blocked instance does not */
	ctlw = t.gen | (rq->keep_block ? t.old_ctl & CTL_BLOCKED : 0);
	if (bpf_map_update_elem(bpf_map__fd(t.skel->maps.ctl), &zero, &ctlw, BPF_ANY)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot switch to the new generation: %s", strerror(errno));
		goto fail;
	}
	flipped = true;
	err = pin_stage_progs(&t, rq, d);
	if (!err)
		err = pin_stages(&t, rq, true, d);
	if (!err && t.pin_xdp_bank)
		err = pin_fd(&t, shared_map_fd(&t, "stages_xdp"), "stages_xdp", d);
	for (size_t i = 0; !err && t.pin_late && i < NR_SHARED_MAPS; i++)
		if (!strncmp(shared_maps[i], "learn", 5))
			err = pin_fd(&t, shared_map_fd(&t, shared_maps[i]), shared_maps[i], d);
	if (!err)
		err = write_rule_list(rq, &old_counts, d);
	if (err)
		diag_warn(d, NULL, 0,
			  "the new policy is in force, but its programs are not all pinned");
	wait_for_old_generation();
	txn_clear_gen(&t, rq, !t.gen);
	{
		/* names no rule follows any more: what was learned for them goes */
		struct learn_fds lf = txn_learn_fds(&t);

		learn_maps_prune(&lf);
	}
	unpin_removed_stages(&t, rq);
	err = 0;
	goto out;

fail:
	if (flipped)
		goto out;
	if (t.existing) {
		txn_rollback_existing(&t, rq);
	} else {
		for (size_t i = 0; i < t.nr_xdp_new; i++)
			xdp_detach_point(&t.xdp_new[i], t.xdp_new_ids[i]);
		unpin_instance_dir(t.dir);
		rmdir(PIPELINE_ROOT);
		lock_remove(rq->name);
		remove_state(rq->name);
	}
out:
	counts_snapshot_free(&old_counts);
	free(points);
	txn_free(&t);
	return err;
}

int pipeline_lock(const char *name, struct diag *d)
{
	return lock_instance(name, d);
}

bool pipeline_blocked(const char *name)
{
	__u32 zero = 0, w = 0;
	int fd = pipeline_pin_get(name, "ctl");

	if (fd < 0)
		return false;
	bpf_map_lookup_elem(fd, &zero, &w);
	close(fd);
	return w & CTL_BLOCKED;
}

int pipeline_block(const char *name, struct diag *d)
{
	__u32 zero = 0, w;
	int fd, lock, err = 0;

	fd = pipeline_pin_get(name, "ctl");
	if (fd < 0) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		return -ENOENT;
	}
	close(fd);
	lock = lock_instance(name, d);
	if (lock < 0)
		return lock;
	fd = pipeline_pin_get(name, "ctl");
	if (fd < 0) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		close(lock);
		return -ENOENT;
	}
	if (bpf_map_lookup_elem(fd, &zero, &w)) {
		err = -errno;
	} else {
		w |= CTL_BLOCKED;
		if (bpf_map_update_elem(fd, &zero, &w, BPF_ANY))
			err = -errno;
	}
	if (err)
		diag_error(d, NULL, 0, "cannot block instance '%s': %s", name, strerror(-err));
	close(fd);
	close(lock);
	return err;
}

int pipeline_uninstall(const char *name, struct diag *d)
{
	char dir[128];
	struct dirent *de;
	struct stat sb;
	__u32 zero = 0;
	DIR *dd;
	int lock, xdp;

	snprintf(dir, sizeof(dir), "%s/%s", PIPELINE_ROOT, name);
	if (stat(dir, &sb)) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s)", name, dir);
		return -ENOENT;
	}
	lock = lock_instance(name, d);
	if (lock < 0)
		return lock;
	/*
	 * XDP first: its entry program drops everything once xdp_dispatch is
	 * empty, so one that cannot be detached stays closed, not a half filter
	 */
	xdp = pipeline_pin_get(name, "xdp_dispatch");
	if (xdp >= 0) {
		bpf_map_delete_elem(xdp, &zero);
		close(xdp);
	}
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		struct attach_point pt;
		enum link_hook hook;
		__u32 id;
		int err;

		if (pin_parse_link(de->d_name, &pt, &hook) || hook != LINK_XDP)
			continue;
		/* attached through libxdp: no link to detach, the program is */
		if (pipeline_xdp_state(name, de->d_name, &pt, &id, NULL, NULL) == XDP_HOW_NONE)
			continue;
		err = xdp_detach_point(&pt, id);
		if (err) {
			diag_error(d, NULL, 0,
				   "cannot detach XDP from '%s'%s%s: %s; it now drops every frame "
				   "(remove it with 'ip link set dev %s xdp off'); the instance stays",
				   pt.ifname, pt.netns[0] ? " in netns " : "", pt.netns,
				   strerror(-err), pt.ifname);
			closedir(dd);
			close(lock);
			return err;
		}
	}
	if (dd)
		closedir(dd);
	/* then the links: the moment they go, the filter is off */
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		struct attach_point pt;
		enum link_hook hook;
		int fd;

		if (pin_parse_link(de->d_name, &pt, &hook) || hook == LINK_XDP)
			continue;
		fd = pipeline_pin_get(name, de->d_name);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	if (dd)
		closedir(dd);
	unpin_instance_dir(dir);
	rmdir(PIPELINE_ROOT); /* only when no other instance is left */
	lock_remove(name);
	remove_state(name);
	close(lock);
	return 0;
}

int pipeline_reason_count(const char *name, unsigned int reason, __u64 *packets, __u64 *bytes)
{
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;
	struct pkt_count *vals;

	if (ncpu < 0)
		return ncpu;
	fd = pipeline_pin_get(name, "reasons");
	if (fd < 0)
		return fd;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals) {
		close(fd);
		return -ENOMEM;
	}
	*packets = *bytes = 0;
	if (bpf_map_lookup_elem(fd, &reason, vals)) {
		err = -errno;
	} else {
		for (int i = 0; i < ncpu; i++) {
			*packets += vals[i].packets;
			*bytes += vals[i].bytes;
		}
	}
	free(vals);
	close(fd);
	return err;
}

int pipeline_sources(const char *name, int gen, struct addr *out, size_t max)
{
	struct source_key prev, next;
	bool first = true;
	__u32 zero = 0, ctlw;
	size_t n = 0;
	int fd;

	if (gen < 0) {
		fd = pipeline_pin_get(name, "ctl");
		if (fd < 0)
			return fd;
		if (bpf_map_lookup_elem(fd, &zero, &ctlw)) {
			close(fd);
			return -errno;
		}
		close(fd);
		gen = ctlw & CTL_GEN_MASK;
	}
	fd = pipeline_pin_get(name, "sources");
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &next)) {
		if (next.gen == gen && n < max) {
			struct addr *a = &out[n++];

			a->family = next.family;
			a->plen = next.prefixlen - SOURCE_LPM_FIXED_BITS;
			memcpy(a->bytes, next.addr, sizeof(a->bytes));
		}
		prev = next;
		first = false;
	}
	close(fd);
	return n;
}

/* the program in an instance's pin and fd carry the same instructions (the tag hides map fds
 * and the values of read-only data, such as dry_run) */
static int same_tag(int live, int fd)
{
	struct bpf_prog_info a = {}, b = {};
	__u32 la = sizeof(a), lb = sizeof(b);

	if (bpf_obj_get_info_by_fd(live, &a, &la) || bpf_obj_get_info_by_fd(fd, &b, &lb))
		return -errno;
	return memcmp(a.tag, b.tag, sizeof(a.tag)) ? -ESTALE : 0;
}

static int same_code(const char *name, const char *pin, int fd, struct diag *d)
{
	int pinned = pipeline_pin_get(name, pin), err;

	if (pinned < 0) {
		diag_error(d, NULL, 0, "instance '%s': pinned program '%s' missing: %s", name, pin,
			   strerror(-pinned));
		return pinned;
	}
	err = same_tag(pinned, fd);
	close(pinned);
	return err;
}

/* every program of the dry copy's stage against the one in the live bank's slot */
static int same_stage_code(const char *name, const struct loaded_stage *ls, __u32 idx)
{
	int err = 0;

	for (int h = 0; !err && h < NR_STAGE_HOOKS; h++) {
		int banks, live;
		__u32 id;

		if (ls->prog_fds[h] < 0)
			continue;
		banks = pipeline_pin_get(name, stage_hooks[h].banks);
		if (banks < 0)
			return banks;
		if (bpf_map_lookup_elem(banks, &idx, &id)) {
			err = -ESTALE; /* the live slot is empty for this hook */
		} else {
			live = bpf_prog_get_fd_by_id(id);
			err = live < 0 ? -errno : same_tag(live, ls->prog_fds[h]);
			if (live >= 0)
				close(live);
		}
		close(banks);
	}
	return err;
}

struct dry_pipeline {
	struct txn t;
	struct stage stages[STAGE_MAX_SLOTS]; /* copies of the descriptors only */
};

int pipeline_dry_load(const char *name, const struct stage *candidates, size_t nr,
		      bool cgroup_skb, bool xdp, __u64 tool, struct dry_pipeline **out,
		      struct diag *d)
{
	char names[STAGE_MAX_SLOTS][STAGE_NAME_LEN];
	struct dry_pipeline *dp = calloc(1, sizeof(*dp));
	__u32 zero = 0;
	int err;

	*out = NULL;
	if (!dp)
		return -ENOMEM;
	dp->t.lock_fd = -1;
	dp->t.xdp_map = -1;
	dp->t.xdp_old_dispatcher = -1;
	dp->t.existing = true;
	dp->t.dry_run = true;
	dp->t.cgroup_hooks = cgroup_skb;
	dp->t.xdp_hooks = xdp;
	dp->t.dry_tool = tool;
	dp->t.ls = calloc(STAGE_MAX_SLOTS, sizeof(*dp->t.ls));
	err = dp->t.ls ? pipeline_stage_names(name, names) : -ENOMEM;
	if (err) {
		diag_error(d, NULL, 0, "instance '%s': cannot read its stages: %s", name,
			   strerror(-err));
		goto fail;
	}
	err = open_dispatcher(&dp->t, name, 0, d);
	if (err)
		goto fail;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->t.skel->maps.ctl), &zero, &dp->t.old_ctl)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot read the control word of '%s': %s", name,
			   strerror(errno));
		goto fail;
	}
	dp->t.gen = dp->t.old_ctl & CTL_GEN_MASK;
	err = same_code(name, "dispatch_tc", bpf_program__fd(dp->t.skel->progs.dispatch_tc), d);
	if (!err && xdp)
		err = same_code(name, "dispatch_xdp",
				bpf_program__fd(dp->t.skel->progs.dispatch_xdp), d);
	if (err == -ESTALE)
		diag_error(d, NULL, 0,
			   "instance '%s' runs another build of the dispatcher than this "
			   "ironclaw-pipe: install it again with this one",
			   name);
	if (err)
		goto fail;
	for (__u32 slot = 1; slot < STAGE_MAX_SLOTS; slot++) {
		struct loaded_stage *ls = &dp->t.ls[dp->t.nr_ls];
		const struct stage *st = NULL;
		__u32 idx = dp->t.gen * STAGE_MAX_SLOTS + slot;

		if (!names[slot][0])
			continue;
		for (size_t i = 0; i < nr && !st; i++)
			if (!strcmp(candidates[i].desc.name, names[slot]))
				st = &candidates[i];
		if (!st) {
			diag_error(d, NULL, 0,
				   "stage '%s' of instance '%s' is in no object of its profile any "
				   "more: reload or install it",
				   names[slot], name);
			err = -ENOENT;
			goto fail;
		}
		dp->stages[dp->t.nr_ls++] = *st;
		err = load_stage(&dp->t, name, st, 0, ls, d);
		if (err)
			goto fail;
		err = same_stage_code(name, ls, idx);
		if (err == -ESTALE)
			diag_error(d, st->origin, 0,
				   "stage '%s' differs from the one instance '%s' runs: reload or "
				   "install it first",
				   st->desc.name, name);
		if (err)
			goto fail;
		for (int h = 0; h < NR_STAGE_HOOKS; h++) {
			if (ls->prog_fds[h] < 0)
				continue;
			if (bpf_map_update_elem(shared_map_fd(&dp->t, stage_hooks[h].banks), &idx,
						&ls->prog_fds[h], BPF_ANY)) {
				err = -errno;
				diag_error(d, NULL, 0, "cannot put stage '%s' in its slot: %s",
					   st->desc.name, strerror(errno));
				goto fail;
			}
		}
	}
	*out = dp;
	return 0;
fail:
	pipeline_dry_free(dp);
	return err;
}

int pipeline_dry_prog(const struct dry_pipeline *dp, enum stage_hook hook)
{
	if (hook == STAGE_HOOK_TC)
		return bpf_program__fd(dp->t.skel->progs.dispatch_tc);
	if (hook == STAGE_HOOK_CGSKB && dp->t.cgroup_hooks)
		return bpf_program__fd(dp->t.skel->progs.dispatch_cgskb);
	if (hook == STAGE_HOOK_XDP && dp->t.xdp_hooks)
		return bpf_program__fd(dp->t.skel->progs.dispatch_xdp);
	return -ENOENT;
}

void pipeline_dry_free(struct dry_pipeline *dp)
{
	if (!dp)
		return;
	txn_free(&dp->t);
	free(dp);
}
