/* pipeline.c: loading, pinning, filling and attaching an instance, and switching it in one step. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "policy.h"
#include "pipeline.h"
#include "reasons.h"
#include "dispatcher.skel.h"
#include "stage_dns.skel.h"
#include "stage_https.skel.h"
#include "stage_internal.skel.h"

/* maps of the dispatcher that stage objects share by name */
static const char *const shared_maps[] = {
	"ctl",		 "config",	    "reasons",	       "classes",	  "sources",
	"sock_state",	 "stages_tc",	    "stages_cgskb",    "stages_connect4", "stages_connect6",
	"stages_sendmsg4", "stages_sendmsg6", "events", "event_drops", "event_budgets", "audit_tools",
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

/* removes generation gen from every policy map this transaction touches */
static void txn_clear_gen(struct txn *t, const struct install_req *rq, __u32 gen)
{
	map_clear_gen(bpf_map__fd(t->skel->maps.classes), sizeof(struct class_key),
		      offsetof(struct class_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.sources), sizeof(struct source_key),
		      offsetof(struct source_key, gen), gen);
	map_clear_gen(bpf_map__fd(t->skel->maps.audit_tools), sizeof(struct audit_tool_key),
		      offsetof(struct audit_tool_key, gen), gen);
	for (int h = 0; h < NR_STAGE_HOOKS; h++)
		prog_array_clear_bank(shared_map_fd(t, stage_hooks[h].banks), gen);
	for (size_t i = 0; i < t->nr_ls; i++) {
		__u32 ks, off;

		rules_key_info(&rq->stages[i], &ks, &off);
		map_clear_gen(t->ls[i].rules_fd, ks, off, gen);
	}
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
				fd = pipeline_pin_get(name, shared_maps[i]);
				if (fd < 0) {
					diag_error(d, NULL, 0,
						   "instance '%s': pinned map '%s' missing: %s",
						   name, shared_maps[i], strerror(-fd));
					return fd;
				}
				err = bpf_map__reuse_fd(m, fd);
				close(fd);
				if (err) {
					diag_error(d, NULL, 0,
						   "instance '%s': cannot reuse map '%s': %s", name,
						   shared_maps[i], strerror(-err));
					return err;
				}
			}
		}
	}
	/* the tc program always (status and tests use it), the cgroup ones when attached:
	 * every program loaded is one more for the verifier at every install */
	bpf_object__for_each_program(p, t->skel->obj)
		bpf_program__set_autoload(p, t->cgroup_hooks ||
						     !strcmp(bpf_program__name(p), "dispatch_tc"));
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
		if (!strcmp(mn, STAGE_DESC_SECTION)) {
			continue; /* read-only data of this object alone */
		} else if (!strcmp(mn, STAGE_RULES_MAP)) {
			fd = pipeline_pin_get(name, rules_pin);
			if (fd >= 0 && rules_map_fits(fd, m, needed)) {
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

		if (!p) {
			diag_error(d, st->origin, 0,
				   "stage '%s' has no '%s' program (built with an older lib/stage.h?)",
				   st->desc.name, stage_hooks[h].stage_prog);
			return -EINVAL;
		}
		bpf_program__set_autoload(p, h == STAGE_HOOK_TC || t->cgroup_hooks);
	}
	err = bpf_object__load(ls->obj);
	if (err) {
		diag_error(d, st->origin, 0,
			   "cannot load stage '%s' (maps must match the instance's): %s",
			   st->desc.name, strerror(-err));
		return err;
	}
	for (int h = 0; h < NR_STAGE_HOOKS; h++)
		ls->prog_fds[h] = h == STAGE_HOOK_TC || t->cgroup_hooks ?
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
	}
	if (rq->progress)
		rq->progress(pl->nr_entries, pl->nr_entries);
	return 0;
}

static int fill(struct txn *t, const struct install_req *rq, struct diag *d)
{
	int classes = bpf_map__fd(t->skel->maps.classes);
	int sources = bpf_map__fd(t->skel->maps.sources);
	struct gen_config cfg = { .tool_level = rq->tool_level,
				  .flags = (rq->has_tools ? GEN_HAS_TOOLS : 0) |
					   (rq->audit_all ? GEN_AUDIT : 0),
				  .audit_slots = rq->audit_slots };
	__u32 one = 1, gen = t->gen;
	int err;

	for (size_t i = 0; i < rq->profile->nr_audits; i++) {
		const struct audit_line *a = &rq->profile->audits[i];
		struct audit_tool_key k = { .tool = a->tool_id, .gen = t->gen };

		if (a->tool && a->tool_id &&
		    bpf_map_update_elem(bpf_map__fd(t->skel->maps.audit_tools), &k, &one, BPF_ANY)) {
			diag_error(d, a->file, a->line, "cannot put tool '%s' in audit mode: %s",
				   a->name, strerror(errno));
			return -errno;
		}
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
	for (size_t i = 0; i < rq->plan->nr_classes; i++) {
		const struct plan_class *c = &rq->plan->classes[i];
		struct class_key k = { .gen = t->gen,
				       .l4proto = c->l4proto,
				       .dport = htons(c->port) };
		struct class_value v = { .slot = rq->stages[c->stage].desc.slot };

		if (bpf_map_update_elem(classes, &k, &v, BPF_NOEXIST)) {
			diag_error(d, NULL, 0, "cannot add class %s/%u: %s",
				   l4proto_name(c->l4proto), c->port, strerror(errno));
			return -errno;
		}
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
	} else {
		fd = link_tcx_attach(prog, idx, pt->kind == ATTACH_TC_INGRESS);
		if (fd < 0)
			diag_error(d, NULL, 0,
				   "cannot attach to %s of '%s' (tcx needs kernel >= 6.6): %s",
				   pt->kind == ATTACH_TC_INGRESS ? "tc ingress" : "tc egress",
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

/* attaches the points no live link of this instance covers yet */
static int attach_new_points(struct txn *t, const struct install_req *rq, struct diag *d)
{
	for (size_t i = 0; i < rq->nr_points; i++) {
		enum link_hook first, last;

		attach_point_hooks(&rq->points[i], &first, &last);
		for (enum link_hook h = first; h <= last; h++) {
			char pin[PIN_NAME_MAX], path[PIN_PATH_MAX];
			struct stat sb;
			int fd, err;

			pin_name_link(pin, sizeof(pin), &rq->points[i], h);
			if (!pin[0]) {
				diag_error(d, NULL, 0, "cgroup path '%s' is too long to name its pin",
					   rq->points[i].cgroup);
				return -ENAMETOOLONG;
			}
			snprintf(path, sizeof(path), "%s/%s", t->dir, pin);
			if (!stat(path, &sb) && link_pin_live(path))
				continue; /* already attached there; moved to the new dispatcher */
			unlink(path); /* a pin of a link whose interface is gone: attach anew */
			fd = attach_hook(t, &rq->points[i], h, d);
			if (fd < 0)
				return fd;
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

		if (pin_parse_link(de->d_name, &pt, &hook))
			continue;
		fd = pipeline_pin_get(name, de->d_name);
		if (fd < 0)
			continue;
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
 * The installed rules, one a line: number, stage, file, line, text. The
 * counters in rule_counts are indexed by the number. Written beside, then
 * renamed over the old list, so a reader sees one profile or the other.
 */
static int write_rule_list(const struct install_req *rq, struct diag *d)
{
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
		fprintf(f, "%zu\t%s\t%s\t%d\t%s\n", i,
			e < pl->nr_entries ? rq->stages[pl->entries[e].stage].desc.name : "?",
			r->file, r->line, r->text);
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
	dispatcher__destroy(t->skel);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
}

/* a failed install over a running instance: put everything back as it was */
static void txn_rollback_existing(struct txn *t, const struct install_req *rq)
{
	for (size_t i = 0; i < t->nr_updated; i++)
		if (t->updated_old_progs[i] >= 0)
			bpf_link_update(t->updated_links[i], t->updated_old_progs[i], NULL);
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

	if (!err)
		err = pin_fd(t, bpf_map__fd(t->skel->maps.rule_counts), "rule_counts", d);

	for (size_t i = 0; !err && i < t->nr_ls; i++) {
		char obj[64];

		pin_name_stage(obj, sizeof(obj), rq->stages[i].desc.name);
		err = pin_fd(t, t->ls[i].prog_fds[STAGE_HOOK_TC], obj, d);
	}
	return err;
}

/* a cgroup attach point is asked for, or one of the instance's links is on a cgroup */
static bool cgroup_attached(const char *dir, const struct install_req *rq)
{
	struct attach_point pt;
	enum link_hook hook;
	struct dirent *de;
	bool cg = false;
	DIR *dd;

	for (size_t i = 0; i < rq->nr_points; i++)
		cg |= rq->points[i].kind == ATTACH_CGROUP;
	dd = opendir(dir);
	while (!cg && dd && (de = readdir(dd)))
		cg = !pin_parse_link(de->d_name, &pt, &hook) && pt.kind == ATTACH_CGROUP;
	if (dd)
		closedir(dd);
	return cg;
}

int pipeline_install(const struct install_req *rq, struct diag *d)
{
	struct txn t = { .lock_fd = -1 };
	char ctl_path[PIN_PATH_MAX];
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
	t.cgroup_hooks = cgroup_attached(t.dir, rq);
	if (!t.existing)
		unpin_instance_dir(t.dir); /* leftovers of an interrupted run, if any */
	if (!t.existing && mkdir(t.dir, 0700) && errno != EEXIST) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot create %s: %s", t.dir, strerror(errno));
		goto out;
	}

	err = open_dispatcher(&t, rq->name, rq->profile->nr_rules, d);
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
		err = load_stage(&t, rq->name, &rq->stages[i], rq->plan->stage_entries[i], &t.ls[i],
				 d);
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
		if (!err)
			err = write_rule_list(rq, d);
		if (!err)
			err = attach_new_points(&t, rq, d); /* attach last */
		if (err)
			goto fail;
		goto out;
	}

	err = pin_stages(&t, rq, false, d);
	if (!err)
		err = update_links(&t, rq->name, d);
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
	if (!err)
		err = write_rule_list(rq, d);
	if (err)
		diag_warn(d, NULL, 0,
			  "the new policy is in force, but its programs are not all pinned");
	wait_for_old_generation();
	txn_clear_gen(&t, rq, !t.gen);
	unpin_removed_stages(&t, rq);
	err = 0;
	goto out;

fail:
	if (flipped)
		goto out;
	if (t.existing) {
		txn_rollback_existing(&t, rq);
	} else {
		unpin_instance_dir(t.dir);
		rmdir(PIPELINE_ROOT);
		lock_remove(rq->name);
		remove_state(rq->name);
	}
out:
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
	DIR *dd;
	int lock;

	snprintf(dir, sizeof(dir), "%s/%s", PIPELINE_ROOT, name);
	if (stat(dir, &sb)) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s)", name, dir);
		return -ENOENT;
	}
	lock = lock_instance(name, d);
	if (lock < 0)
		return lock;
	/* links first: the moment they go, the filter is off */
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		int fd;

		if (strncmp(de->d_name, PIN_LINK_PREFIX, strlen(PIN_LINK_PREFIX)))
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
