/* pipeline_load.c: loading phase: the dispatcher, with the instance's shared maps, and each stage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "pipeline_load.h"
#include "rules4.h"

/* smallest rule map; a hash map's bucket array is sized by max_entries up front */
#define RULES_MAP_MIN 1024

/*
 * Counters for rules that live edits add into the running generation
 * (pipeline_edit.c) beyond the profile's: 1,024 and one in 64 more (1M
 * rules: 16,384 more, 256 KiB a CPU). Once they are taken, an allow
 * switches to a new generation, which makes the room again.
 */
#define RULE_COUNTS_HEADROOM(n) (1024 + (n) / 64)

/*
 * maps of the dispatcher that every install of an instance shares through their pins (a
 * stage may also use one that is not pinned, like sni_work: per-CPU room, nothing kept)
 */
#define BANK_NAME_ROW(ID, name, label, sec, entry, load, link, cgtype) "stages_" #name,
const char *const shared_maps[] = { "ctl",
				    "config",
				    "xdp_marks",
				    "reasons",
				    "classes",
				    "sources",
				    "sock_state",
				    "events",
				    "event_drops",
				    "event_budgets",
				    "audit_tools",
				    "dns_names",
				    "dns_qtypes",
				    "dns_work",
				    "learn_names",
				    "learn_rules",
				    "learn_resolvers",
				    "learn_config",
				    "learned",
				    "learn_addr_counts",
				    "learn_pending",
				    "learn_flows",
				    "learn_ports",
				    "learn_rate",
				    "learn_counts",
				    "l2_links",
				    "flow_drops",
				    "flow_seen",
				    "wide_rules",
				    "sni_flows",
				    "sni_bufs",
				    HOOK_TABLE(BANK_NAME_ROW) };
const size_t NR_SHARED_MAPS = sizeof(shared_maps) / sizeof(shared_maps[0]);
_Static_assert(sizeof(shared_maps) / sizeof(shared_maps[0]) <= 64, "txn.fresh_maps: one bit each");

/*
 * Shared maps whose contents may start over: when an instance installed by
 * an older build has none of it, or one of another shape, the install makes
 * it anew (counters restart, queries in flight are not learned, the links'
 * layer 2 is read again at every install anyway) instead of refusing the
 * instance.
 */
static bool may_start_anew(const char *map)
{
	static const char *const anew[] = { "learn_counts", "learn_ports",     "learn_rate",
					    "l2_links",	    "flow_drops",      "flow_seen",
					    "wide_rules",   "learn_names",     "learned",
					    "learn_config", "learn_resolvers", "learn_addr_counts",
					    "sni_flows",    "sni_bufs",	       "xdp_marks" };

	for (size_t i = 0; i < sizeof(anew) / sizeof(anew[0]); i++)
		if (!strcmp(map, anew[i]))
			return true;
	return false;
}

/* the reasons map of an earlier build, with fewer reasons: the same but for its size */
static bool reasons_smaller(int fd, const struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (strcmp(bpf_map__name(m), "reasons") || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries < bpf_map__max_entries(m);
}

/* the hook kind a dispatcher or stage program serves, or HOOK_NONE */
static enum hook_id prog_hook(const char *prog)
{
	for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++)
		if (!strcmp(prog, hooks[h].dispatcher) || !strcmp(prog, hooks[h].stage_prog))
			return h;
	return HOOK_NONE;
}

/*
 * The tc programs always (status and tests use them), the others when a
 * point of their kind is attached: every program loaded is one more for the
 * verifier at every install. A dry run needs only what BPF_PROG_TEST_RUN
 * can run: the packet hooks.
 */
bool txn_hook_loaded(const struct txn *t, enum hook_id h)
{
	if (t->dry_run && !hooks[h].test_run)
		return false;
	switch (hooks[h].load) {
	case HOOK_LOAD_ALWAYS:
		return true;
	case HOOK_LOAD_CGROUP:
		return t->cgroup_hooks;
	case HOOK_LOAD_XDP:
		return t->xdp_hooks;
	}
	return false;
}

/*
 * The programs of no hook kind: learning at tc, host-side tc ingress (tc's
 * hook, with the DNS id rewrite), the tool mark of new sockets
 */
static bool prog_loaded(const struct txn *t, const char *prog)
{
	enum hook_id h = prog_hook(prog);

	if (h != HOOK_NONE)
		return txn_hook_loaded(t, h);
	if (!strcmp(prog, "learn_tc") || !strcmp(prog, "dispatch_tc_host"))
		return !t->dry_run;
	return t->cgroup_hooks && !t->dry_run;
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

int txn_open_dispatcher(struct txn *t, const char *name, size_t nr_rules, struct diag *d)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	t->skel = dispatcher__open();
	if (!t->skel) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot open the dispatcher object: %s", strerror(-err));
		return err;
	}
	if (t->existing) {
		bpf_object__for_each_map(m, t->skel->obj) {
			int fd;

			for (size_t i = 0; i < NR_SHARED_MAPS; i++) {
				if (strcmp(bpf_map__name(m), shared_maps[i]))
					continue;
				if (t->dry_run && !strncmp(shared_maps[i], "stages_", 7))
					continue; /* its own banks, holding its own stages */
				fd = pins_get(name, shared_maps[i]);
				if (may_start_anew(shared_maps[i]) &&
				    (fd < 0 || !same_shape(fd, m))) {
					if (fd >= 0)
						close(fd);
					t->fresh_maps |= 1ull << i;
					continue;
				}
				if (fd < 0) {
					diag_error(
						d, NULL, 0,
						"instance '%s': pinned map '%s' missing (%s): block "
						"it, uninstall it and install it again",
						name, shared_maps[i], strerror(-fd));
					return fd;
				}
				if (!same_shape(fd, m) && reasons_smaller(fd, m)) {
					t->reasons_grown = true; /* txn_attach copies it */
					t->reasons_old = fd;
					continue;
				}
				err = same_shape(fd, m) ? bpf_map__reuse_fd(m, fd) : -EPROTO;
				close(fd);
				if (err == -EPROTO) {
					diag_error(
						d, NULL, 0,
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
		bpf_program__set_autoload(p, prog_loaded(t, bpf_program__name(p)));
	t->skel->rodata->dry_run = t->dry_run;
	t->skel->rodata->dry_tool = t->dry_tool;
	/*
	 * a new counter per rule of this profile, and room for live edits; the old
	 * generation keeps counting into its own
	 */
	err = bpf_map__set_max_entries(t->skel->maps.rule_counts,
				       nr_rules + RULE_COUNTS_HEADROOM(nr_rules));
	if (!err)
		err = dispatcher__load(t->skel);
	if (err) {
		diag_error(d, NULL, 0, "cannot load the dispatcher (kernel BTF and BPF needed): %s",
			   strerror(-err));
		return err;
	}
	return 0;
}

int txn_map_fd(const struct txn *t, const char *map_name)
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

/*
 * Sets the read-only global `var` (of exactly size bytes) of an object that
 * is not loaded yet; -ENOENT when the object has no such variable.
 */
static int object_set_rodata(struct bpf_object *obj, const char *var, const void *val, size_t size)
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

		if (strcmp(btf__name_by_offset(btf, v->name_off), var) || vs->size != size ||
		    vs->offset + size > sz)
			continue;
		data = malloc(sz);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, sz);
		memcpy(data + vs->offset, val, size);
		err = bpf_map__set_initial_value(m, data, sz);
		free(data);
		return err;
	}
	return -ENOENT;
}

/* sets the read-only global dry_run of an object that is not loaded yet */
static int object_set_dry_run(struct bpf_object *obj)
{
	__u32 one = 1;

	return object_set_rodata(obj, "dry_run", &one, sizeof(one));
}

/*
 * Rule map m of a stage (rules or rules4): a new one for every generation,
 * made here, before the object loads, so that it can be filled while the
 * programs are verified (*replaced: a pinned one is there, re-pinned after
 * the flip). A switch neither walks nor clears the old generation's entries:
 * the old map leaves with the old stage. explain's copy reads the pinned one.
 * *fd_out: the object's copy of the map's fd.
 */
static int stage_rule_map(struct txn *t, const char *name, const struct stage *st,
			  struct bpf_map *m, const char *pin, size_t needed, bool *made,
			  bool *replaced, int *fd_out, struct diag *d)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(m));
	int err, fd = pins_get(name, pin);

	if (t->dry_run && fd < 0) {
		diag_error(d, st->origin, 0, "stage '%s': pinned map '%s' missing: %s",
			   st->desc.name, pin, strerror(-fd));
		return fd;
	}
	if (!t->dry_run) {
		*replaced = fd >= 0;
		if (fd >= 0)
			close(fd);
		/* rules4: an open-addressed table (rules4.h), the others a hash or a trie */
		if (!strcmp(bpf_map__name(m), STAGE_RULES4_MAP))
			fd = rules4_create(bpf_map__name(m), needed);
		else if ((fd = bpf_map_create(bpf_map__type(m), bpf_map__name(m),
					      bpf_map__key_size(m), bpf_map__value_size(m),
					      rules_map_size(needed), &opts)) < 0)
			fd = -errno;
		if (fd < 0) {
			err = fd;
			diag_error(d, st->origin, 0, "stage '%s': cannot make its map '%s': %s",
				   st->desc.name, bpf_map__name(m), strerror(-err));
			return err;
		}
		*made = true;
	}
	err = bpf_map__reuse_fd(m, fd);
	close(fd);
	if (err) {
		diag_error(d, st->origin, 0, "stage '%s': map '%s' cannot be shared: %s",
			   st->desc.name, bpf_map__name(m), strerror(-err));
		return err;
	}
	*fd_out = bpf_map__fd(m);
	return 0;
}

int txn_open_stage(struct txn *t, const char *name, const struct stage *st, size_t needed,
		   size_t needed4, struct loaded_stage *ls, struct diag *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = st->desc.name);
	char rules_pin[64], rules4_pin[64];
	struct bpf_map *m;
	int err = 0;

	ls->rules_fd = -1;
	ls->rules4_fd = -1;
	for (enum hook_id h = 0; h < NR_HOOKS; h++)
		ls->prog_fds[h] = -1;
	ls->obj = bpf_object__open_mem(st->elf, st->elf_sz, &opts);
	if (!ls->obj) {
		err = -errno;
		diag_error(d, st->origin, 0, "cannot open stage object: %s", strerror(-err));
		return err;
	}
	pin_name_rules(rules_pin, sizeof(rules_pin), st->desc.name);
	pin_name_rules4(rules4_pin, sizeof(rules4_pin), st->desc.name);
	bpf_object__for_each_map(m, ls->obj) {
		const char *mn = bpf_map__name(m);

		if (!strcmp(mn, STAGE_RULES_MAP))
			err = stage_rule_map(t, name, st, m, rules_pin, needed, &ls->rules_made,
					     &ls->rules_replaced, &ls->rules_fd, d);
		else if (!strcmp(mn, STAGE_RULES4_MAP))
			err = stage_rule_map(t, name, st, m, rules4_pin, needed4, &ls->rules4_made,
					     &ls->rules4_replaced, &ls->rules4_fd, d);
		if (err)
			return err;
	}
	return 0;
}

/* the hash's shift of the table the stage's rules4 is now (its pinned one or a new one) */
static int stage_set_rules4(struct bpf_object *obj, const struct stage *st, struct diag *d)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, STAGE_RULES4_MAP);
	__u32 bits = m ? rules4_bits_of(bpf_map__max_entries(m)) : 0;
	struct rule_table_cfg cfg = { .shift = 64 - bits };
	int err;

	if (!m)
		return 0;
	err = bits ? object_set_rodata(obj, "stage_rules4", &cfg, sizeof(cfg)) : -EINVAL;
	if (err)
		diag_error(d, st->origin, 0, "stage '%s': cannot give it its table's size: %s",
			   st->desc.name, strerror(-err));
	return err;
}

int txn_load_stage(struct txn *t, const char *name, const struct stage *st, size_t needed,
		   size_t needed4, const struct stage_baked *baked, struct loaded_stage *ls,
		   struct diag *d)
{
	struct bpf_map *m;
	int err, fd;

	if (!ls->obj) {
		err = txn_open_stage(t, name, st, needed, needed4, ls, d);
		if (err)
			return err;
	}
	bpf_object__for_each_map(m, ls->obj) {
		const char *mn = bpf_map__name(m);

		err = 0;
		if (!strcmp(mn, STAGE_DESC_SECTION) || bpf_map__is_internal(m) ||
		    !strcmp(mn, STAGE_RULES_MAP) || !strcmp(mn, STAGE_RULES4_MAP)) {
			continue; /* its own data (.rodata: dry_run); its rule maps, opened */
		} else {
			fd = txn_map_fd(t, mn);
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
	for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(ls->obj, hooks[h].stage_prog);

		if (!p && !txn_hook_loaded(t, h))
			continue;
		if (!p) {
			diag_error(
				d, st->origin, 0,
				"stage '%s' has no '%s' program: rebuild it against include/ironclaw/stage.h",
				st->desc.name, hooks[h].stage_prog);
			return -EINVAL;
		}
		bpf_program__set_autoload(p, txn_hook_loaded(t, h));
	}
	err = t->dry_run ? object_set_dry_run(ls->obj) : 0;
	if (err) {
		diag_error(d, st->origin, 0,
			   "stage '%s' has no dry_run setting: "
			   "rebuild it",
			   st->desc.name);
		return err;
	}
	/* a stage without the server-name check (no sni_check) has nothing to leave out */
	err = t->sni_skip ? object_set_rodata(ls->obj, "sni_check", &(__u32){ 0 }, sizeof(__u32)) :
			    0;
	if (err && err != -ENOENT) {
		diag_error(d, st->origin, 0,
			   "stage '%s': cannot leave out its server-name check: %s", st->desc.name,
			   strerror(-err));
		return err;
	}
	/* a stage that marks no frame at XDP (it reads payloads, or has no XDP entry) has none */
	err = t->xdp_mark ? object_set_rodata(ls->obj, "xdp_pass_mark", &t->xdp_mark,
					      sizeof(t->xdp_mark)) :
			    0;
	if (err && err != -ENOENT) {
		diag_error(d, st->origin, 0, "stage '%s': cannot set its XDP mark: %s",
			   st->desc.name, strerror(-err));
		return err;
	}
	/* a stage without stage_baked (prefix maps) asks its map, whatever baked holds */
	err = baked && baked->on ?
		      object_set_rodata(ls->obj, "stage_baked", baked, sizeof(*baked)) :
		      0;
	if (err && err != -ENOENT) {
		diag_error(d, st->origin, 0,
			   "stage '%s': cannot set its rules as read-only data: %s", st->desc.name,
			   strerror(-err));
		return err;
	}
	err = stage_set_rules4(ls->obj, st, d);
	if (err)
		return err;
	err = bpf_object__load(ls->obj);
	if (err) {
		diag_error(d, st->origin, 0,
			   "cannot load stage '%s' (maps must match the instance's): %s",
			   st->desc.name, strerror(-err));
		return err;
	}
	for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++)
		if (txn_hook_loaded(t, h))
			ls->prog_fds[h] = bpf_program__fd(
				bpf_object__find_program_by_name(ls->obj, hooks[h].stage_prog));
	return 0;
}
