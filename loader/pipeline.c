/* pipeline.c: one install as a transaction (build beside, attach, switch one word), block, uninstall. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "learn_rules.h"
#include "pipeline.h"
#include "pipeline_attach.h"
#include "pipeline_edit.h"
#include "pipeline_fill.h"
#include "pipeline_l2.h"
#include "pipeline_load.h"
#include "pipeline_preload.h"
#include "pipeline_state.h"
#include "pipeline_tc.h"
#include "phases.h"
#include "policy.h"
#include "req_hash.h"
#include "xdp.h"

/* without membarrier(): how long in-flight packets may still use the old generation */
#define SWAP_GRACE_MS 50

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

void txn_free(struct txn *t)
{
	struct diag ignored = {};

	/* a build that failed before it waited for its fill: wait now, its maps close below */
	txn_fill_stage_maps_end(t, &ignored);
	diag_free(&ignored);
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
	txn_tc_free(t);
	free(t->l2);
	if (t->reasons_grown)
		close(t->reasons_old);
	dispatcher__destroy(t->skel);
}

/* a failed install over a running instance: put everything back as it was */
static void txn_rollback_existing(struct txn *t, const struct install_req *rq)
{
	__u32 zero = 0;

	for (size_t i = 0; i < t->nr_updated; i++)
		if (t->updated_old_progs[i] >= 0)
			bpf_link_update(t->updated_links[i], t->updated_old_progs[i], NULL);
	txn_tc_undo(t, rq->name);
	for (size_t i = 0; i < t->nr_xdp_new; i++)
		attach_xdp_detach(&t->xdp_new[i], t->xdp_new_ids[i]);
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

		if (t->ls[i].rules_pinned_here) {
			pin_name_rules(obj, sizeof(obj), rq->stages[i].desc.name);
			snprintf(path, sizeof(path), "%s/%s", t->dir, obj);
			unlink(path);
		}
		if (t->ls[i].rules4_pinned_here) {
			pin_name_rules4(obj, sizeof(obj), rq->stages[i].desc.name);
			snprintf(path, sizeof(path), "%s/%s", t->dir, obj);
			unlink(path);
		}
	}
}

/* what the install will have attached: decides which programs load; -EINVAL when refused */
static int txn_plan_hooks(struct txn *t, const struct install_req *rq, struct diag *d)
{
	size_t max = rq->nr_points + PIPELINE_MAX_LINKS, n;
	struct attach_point *points = calloc(max, sizeof(*points));
	int err;

	if (!points)
		return -ENOMEM;
	n = txn_all_points(t->dir, rq, points, max);
	t->cgroup_hooks = attach_kind_present(points, n, ATTACH_CGROUP);
	t->xdp_hooks = rq->xdp_programs || attach_kind_present(points, n, ATTACH_XDP);
	t->xdp_generic = rq->has_tools;
	t->host_side_tc = attach_kind_present(points, n, ATTACH_TC_INGRESS);
	err = txn_xdp_covered(points, n, rq, d);
	/* layer 2 of the host-side points, from the host side: a refusal touches nothing yet */
	if (!err && !t->dry_run) {
		int nr;

		t->l2 = calloc(L2_MAX_LINKS, sizeof(*t->l2));
		nr = t->l2 ? l2_entries_read(points, n, rq->gateways, rq->nr_gateways, t->l2,
					     L2_MAX_LINKS, d) :
			     -ENOMEM;
		err = nr < 0 ? nr : 0;
		t->nr_l2 = nr < 0 ? 0 : nr;
	}
	/*
	 * Learning needs the query's id rewritten where the sandbox cannot see
	 * it: host-side tc ingress, its answer back at host-side tc egress.
	 * cgroup_skb cannot write a packet, XDP and the sandbox's own tc are
	 * seen by the sandbox (or come before the rewrite): alone, they do not
	 * learn, and a name rule there would allow nothing.
	 */
	if (!err && rq->profile->nr_name_rules && !t->host_side_tc && !rq->xdp_programs) {
		const struct name_rule *r = &rq->profile->name_rules[0];

		diag_error(d, r->o.file, r->o.line,
			   "name rules learn the resolver's answers only at host-side tc, where "
			   "each query's id is rewritten out of the sandbox's sight: give "
			   "--tc-ingress IFACE (--cgroup, --xdp and --tc alone do not learn)");
		err = -EINVAL;
	}
	free(points);
	return err;
}

/*
 * The next generation, loaded and filled beside the running one. The
 * dispatcher was verified while the profile was parsed (pipeline_preload.h),
 * or is now; the stages' rule maps are made first and filled by threads of
 * their own while the kernel verifies the programs; the rest is filled
 * after. hash: where the request's hash goes (NULL: computed already).
 */
static int txn_build(struct txn *t, const struct install_req *rq, char *hash,
		     struct counts_snapshot *old_counts, struct diag *d)
{
	__u32 zero = 0, gen = 0, w;
	size_t nr_rules;
	int err;

	/* the generation to fill: the one not running (its entries' keys carry it) */
	if (t->existing) {
		err = ctl_read_pinned(rq->name, &w);
		if (err) {
			diag_error(d, NULL, 0, "cannot read the control word of '%s': %s", rq->name,
				   strerror(-err));
			return err;
		}
		gen = t->gen = !(w & CTL_GEN_MASK);
	}
	/* what XDP marks the frames it allowed for good with: fresh for every generation */
	if (t->xdp_hooks && !t->dry_run &&
	    getrandom(&t->xdp_mark, sizeof(t->xdp_mark), 0) != sizeof(t->xdp_mark))
		return -errno;
	t->xdp_mark |= t->xdp_hooks && !t->dry_run; /* 0 is no mark */
	t->ls = calloc(rq->nr_stages + 1, sizeof(*t->ls));
	if (!t->ls)
		return -ENOMEM;
	/* the same test as the generation's GEN_SNI (txn_fill) */
	t->sni_skip = !learn_sni_checked(rq->profile);
	for (size_t i = 0; i < rq->nr_stages; i++) {
		size_t in4, size4;

		t->nr_ls++;
		err = txn_stage_size4(t, rq, i, &in4, &size4);
		if (err) {
			diag_error(d, rq->stages[i].origin, 0,
				   "stage '%s': cannot size its rules4: %s",
				   rq->stages[i].desc.name, strerror(-err));
			return err;
		}
		/* with XDP, each tool rule has a marker entry too (in rules, not rules4) */
		err = txn_open_stage(t, rq->name, &rq->stages[i],
				     (rq->plan->stage_entries[i] - in4) *
					     (t->xdp_hooks && rq->has_tools ? 2 : 1),
				     size4, &t->ls[i], d);
		if (err)
			return err;
	}
	err = txn_fill_stage_maps_start(t, rq);
	t->fill_started = !err;
	/* the DNS name rules count after the address rules */
	nr_rules = rq->profile->nr_rules + rq->profile->nr_dns_names + rq->profile->nr_name_rules;
	/*
	 * The request's hash, for the edit base (a reload's: done), and the rule list while the
	 * fill runs and the dispatcher is verified (neither needs it)
	 */
	if (!err && hash) {
		size_t elf_len;
		const void *elf = dispatcher__elf_bytes(&elf_len);

		req_hash(rq, elf, elf_len, hash);
		phase_mark("hash");
	}
	/*
	 * The rule list too, beside the old one, with what the old rules carried: renamed
	 * after the flip when no old counter moved (a new instance: none), else written again
	 */
	if (!err) {
		err = getrandom(&t->list_token, sizeof(t->list_token), 0) == sizeof(t->list_token) ?
			      0 :
			      -errno;
		t->list_token |= 1; /* 0 is no token */
	}
	if (!err && !counts_snapshot_index_carried(old_counts)) {
		struct diag quiet = {}; /* not written: it is, after the flip, or the error said */

		t->list_beside = !txn_write_rule_list(rq, old_counts, t->list_token, true, &quiet);
		diag_free(&quiet);
		phase_mark("rule list beside");
	}
	/* loaded while the profile was parsed (pipeline_preload.h), or now */
	if (!err && pipeline_preload_take(rq->preload, t, nr_rules)) {
		phase_mark("dispatcher verified during the parse");
	} else if (!err) {
		err = txn_open_dispatcher(t, rq->name, nr_rules, d);
		phase_mark("dispatcher load");
	}
	if (!err && t->existing) {
		if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.ctl), &zero, &t->old_ctl)) {
			err = -errno;
			diag_error(d, NULL, 0, "cannot read the control word of '%s': %s", rq->name,
				   strerror(-err));
		} else if ((t->old_ctl & CTL_GEN_MASK) == gen) {
			/* the instance lock keeps other switches out: not while it is held */
			diag_error(d, NULL, 0, "instance '%s' switched during this install",
				   rq->name);
			err = -EBUSY;
		}
	}
	for (size_t i = 0; !err && i < rq->nr_stages; i++) {
		struct stage_baked baked;

		/* a stage of few entries carries them in its program (the map holds them too) */
		txn_stage_baked(t, rq, i, &baked);
		t->ls[i].baked = baked.on;
		err = txn_load_stage(t, rq->name, &rq->stages[i], 0, 0, &baked, &t->ls[i], d);
	}
	phase_mark("stages load");
	/* the stages' maps: their fill ran meanwhile */
	err = txn_fill_stage_maps_end(t, d) ?: err;
	phase_mark("fill of the stages' maps (what was left of it)");
	if (err)
		return err;
	txn_clear_gen(t, rq, t->gen);
	phase_mark("clear next generation");
	err = txn_fill(t, rq, d);
	phase_mark("fill");
	return err;
}

static int txn_reasons_grow(struct txn *t, struct diag *d)
{
	int ncpu = libbpf_num_possible_cpus(), to = bpf_map__fd(t->skel->maps.reasons);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct pkt_count *v;
	int err = 0;

	if (ncpu <= 0 || bpf_obj_get_info_by_fd(t->reasons_old, &info, &len))
		return ncpu <= 0 ? ncpu : -errno;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < info.max_entries; k++)
		if (!bpf_map_lookup_elem(t->reasons_old, &k, v))
			bpf_map_update_elem(to, &k, v, BPF_ANY);
	free(v);
	err = txn_pin(t, to, "reasons", d);
	return err;
}

/* everything attached runs the new dispatcher, or is attached now; nothing reads gen yet */
static int txn_attach(struct txn *t, const struct install_req *rq, struct diag *d)
{
	int err = 0;

	for (size_t i = 0; !err && i < NR_SHARED_MAPS; i++)
		if (!t->existing || (t->fresh_maps >> i & 1))
			err = txn_pin(t, txn_map_fd(t, shared_maps[i]), shared_maps[i], d);
	/* an earlier build's reasons map, with fewer reasons: its counts go on in this one's */
	if (!err && t->reasons_grown)
		err = txn_reasons_grow(t, d);
	if (!err)
		err = txn_pin_rule_maps(t, rq, false, d);
	if (!err && t->existing)
		err = txn_update_links(t, rq->name, d);
	if (!err && t->xdp_hooks)
		err = txn_update_xdp_dispatch(t, rq->name, d);
	if (!err && t->xdp_map_new)
		err = txn_pin(t, t->xdp_map, "xdp_dispatch", d);
	/* before a new point is attached: its first frame is judged at layer 2 too */
	if (!err)
		err = l2_entries_write(txn_map_fd(t, "l2_links"), t->l2, t->nr_l2, d);
	if (!err)
		err = txn_attach_new_points(t, rq, d);
	return err;
}

/* after the switch: pins for status and the next install, the old generation cleared */
static int txn_finish(struct txn *t, const struct install_req *rq,
		      struct counts_snapshot *old_counts, const char *hash, struct diag *d)
{
	int err = txn_pin_programs(t, rq, d);

	if (!err)
		err = txn_pin_rule_maps(t, rq, true, d);
	phase_mark("pin");
	/* the list written beside holds the totals when no old counter moved: renamed */
	if (!err && t->list_beside && !counts_snapshot_counted(old_counts)) {
		err = txn_rule_list_commit(rq, true, d);
		t->list_beside = false;
		phase_mark("old counters read, none moved: the rule list renamed");
	} else if (!err) {
		/* the old rules' counters, read now that the old generation counts no more
		 * (what cannot be read, for want of memory, carries nothing, as before) */
		counts_snapshot_index(old_counts);
		phase_mark("old counters read");
		err = txn_write_rule_list(rq, old_counts, t->list_token, false, d);
		t->list_beside = false;
	}
	if (!err && !t->dry_run)
		err = txn_write_edit_base(t, rq, t->list_token, hash, d);
	phase_mark("rule list");
	if (!t->existing)
		return err; /* a new instance that failed here is removed whole */
	if (err)
		diag_warn(d, NULL, 0,
			  "the new policy is in force, but its programs are not all pinned");
	wait_for_old_generation();
	phase_mark("wait for old generation");
	txn_clear_gen(t, rq, !t->gen);
	phase_mark("clear old generation");
	{
		/* names no rule follows any more: what was learned for them goes */
		struct learn_fds lf = txn_learn_fds(t);

		learn_maps_prune(&lf);
	}
	txn_unpin_removed_stages(t, rq);
	return 0;
}

/*
 * Builds the next generation beside the running one, attaches (a new
 * instance: last), then switches in one word. A failure before the switch
 * puts everything back; a new instance is removed whole.
 */
/* each source one address (addr.h): checked before anything is touched */
static int sources_check(const struct install_req *rq, struct diag *d)
{
	char buf[ADDR_STR_LEN];

	for (size_t i = 0; i < rq->nr_sources; i++) {
		if (addr_is_single(&rq->sources[i]))
			continue;
		diag_error(d, NULL, 0, "source %s: " ADDR_SOURCE_NOT_SINGLE,
			   addr_format(&rq->sources[i], buf, sizeof(buf)));
		return -EINVAL;
	}
	return 0;
}

bool pipeline_pins_have_run(const char *dir)
{
	struct dirent *de;
	DIR *dd = opendir(dir);
	bool found = false;

	while (dd && !found && (de = readdir(dd)))
		found = !strncmp(de->d_name, PIN_LINK_PREFIX, strlen(PIN_LINK_PREFIX)) ||
			!strcmp(de->d_name, "dispatch_tc");
	if (dd)
		closedir(dd);
	return found;
}

int pipeline_install(const struct install_req *rq, struct diag *d)
{
	struct counts_snapshot own_counts = {}, *old_counts = &own_counts;
	char hash[REQ_HASH_LEN];
	bool hashed = false;
	struct txn t = TXN_INIT;
	char path[PIN_PATH_MAX];
	struct stat sb;
	struct ctl_word ctl;
	__u32 ctlw;
	bool flipped = false;
	int err;

	err = sources_check(rq, d);
	if (!err)
		err = pins_bpffs_ensure(d);
	if (err)
		return err;
	state_pin_root(path, sizeof(path));
	mkdir(path, 0700);
	err = state_pin_path(t.dir, sizeof(t.dir), rq->name, NULL);
	if (!err)
		err = state_pin_path(path, sizeof(path), rq->name, "ctl");
	if (err)
		return err;
	/*
	 * A control word with nothing attached and no programs is what a first install killed
	 * before it attached leaves (its maps pinned, perhaps not all): nothing runs it, start over
	 */
	t.existing = !stat(path, &sb) && pipeline_pins_have_run(t.dir);
	/* a reload of what runs already: nothing to switch */
	if (t.existing && rq->reuse_unchanged && !rq->nr_points) {
		size_t elf_len;
		const void *elf = dispatcher__elf_bytes(&elf_len);

		req_hash(rq, elf, elf_len, hash); /* the edit base records it too */
		hashed = true;
		phase_mark("hash");
		if (pipeline_edit_unchanged(rq->name, hash))
			return 1;
	}
	/*
	 * The running rules and their counters, carried over to the same rules after the
	 * switch: read by a thread while the profile was parsed, or here
	 */
	if (t.existing && rq->old_counts)
		old_counts = counts_snapshot_wait(rq->old_counts);
	else if (t.existing)
		counts_snapshot_take(rq->name, &own_counts);
	phase_mark("counts snapshot");
	err = txn_plan_hooks(&t, rq, d);
	phase_mark("hooks");
	if (err)
		goto out;
	if (!t.existing)
		pins_remove_dir(t.dir); /* leftovers of an interrupted run, if any */
	if (!t.existing && mkdir(t.dir, 0700) && errno != EEXIST) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot create %s: %s", t.dir, strerror(-err));
		goto out;
	}
	err = txn_build(&t, rq, hashed ? NULL : hash, old_counts, d);
	if (!err)
		err = txn_attach(&t, rq, d);
	phase_mark("attach");
	if (err)
		goto fail;
	/*
	 * Live edits go in place only while the edit base names the generation in force: gone
	 * before the flip, it is written again once the new rule maps are pinned. A switch
	 * killed in between leaves the pins on the old maps (each generation has maps of its
	 * own), and a second one killed there would find a stale base naming the right
	 * generation: without the base, the next edit switches instead.
	 */
	if (t.existing && !state_path(path, sizeof(path), rq->name, STATE_EDIT_BASE) &&
	    unlink(path) && errno != ENOENT) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot remove %s: %s", path, strerror(-err));
		goto fail;
	}
	/* the switch: one word, read once per packet */
	/* an install ends a block; a reload or live edit of a blocked instance does not */
	ctl_open(bpf_map__fd(t.skel->maps.ctl), &ctl);
	/* a block that came after the install began (the request's word had none) stays */
	err = ctl_switch(
		&ctl, t.old_ctl, t.gen,
		rq->keep_block || (rq->ctl_before_known && !(rq->ctl_before & CTL_BLOCKED)), &ctlw);
	ctl_close(&ctl);
	if (err) {
		diag_error(d, NULL, 0, "cannot switch to the new generation: %s", strerror(-err));
		goto fail;
	}
	flipped = true;
	pipeline_kill_point("flipped");
	phase_mark("switch");
	err = txn_finish(&t, rq, old_counts, hash, d);
	if (!err)
		goto out;
fail:
	if (t.existing && !flipped) {
		txn_rollback_existing(&t, rq);
	} else if (!t.existing) {
		txn_tc_undo(&t, rq->name);
		for (size_t i = 0; i < t.nr_xdp_new; i++)
			attach_xdp_detach(&t.xdp_new[i], t.xdp_new_ids[i]);
		pins_remove_dir(t.dir);
		state_pin_root(path, sizeof(path));
		rmdir(path); /* only when no other instance is left */
	}
out:
	if (t.list_beside) {
		struct diag ignored = {}; /* never renamed: what was written beside goes */

		txn_rule_list_commit(rq, false, &ignored);
		diag_free(&ignored);
	}
	counts_snapshot_free(&own_counts);
	txn_free(&t);
	phase_mark("end");
	return err;
}

int pipeline_block(const char *name, bool locked, struct diag *d)
{
	struct ctl_word c;
	int fd, err;

	fd = pins_get(name, "ctl");
	if (fd < 0) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		return -ENOENT;
	}
	ctl_open(fd, &c);
	err = ctl_block(&c, locked);
	ctl_close(&c);
	close(fd);
	if (err && err != -EAGAIN)
		diag_error(d, NULL, 0, "cannot block instance '%s': %s", name, strerror(-err));
	return err;
}

int pipeline_uninstall(const char *name, struct diag *d)
{
	char dir[PIN_PATH_MAX];
	struct dirent *de;
	struct stat sb;
	__u32 zero = 0;
	DIR *dd;
	int xdp;

	state_pin_path(dir, sizeof(dir), name, NULL);
	if (stat(dir, &sb)) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s)", name, dir);
		return -ENOENT;
	}
	/*
	 * XDP first: its entry program drops everything once xdp_dispatch is
	 * empty, so one that cannot be detached stays closed, not a half filter
	 */
	xdp = pins_get(name, "xdp_dispatch");
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
		if (xdp_pin_state(name, de->d_name, &pt, &id, NULL, NULL) == XDP_HOW_NONE)
			continue;
		err = attach_xdp_detach(&pt, id);
		if (err) {
			diag_error(
				d, NULL, 0,
				"cannot detach XDP from '%s'%s%s: %s; it now drops every frame "
				"(remove it with 'ip link set dev %s xdp off'); the instance stays",
				pt.ifname, pt.netns[0] ? " in netns " : "", pt.netns,
				strerror(-err), pt.ifname);
			closedir(dd);
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
		if (!pipeline_tc_detach(name, de->d_name, &pt, hook))
			continue; /* a classic tc filter, removed with its record */
		fd = pins_get(name, de->d_name);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	if (dd)
		closedir(dd);
	pins_remove_dir(dir);
	state_pin_root(dir, sizeof(dir));
	rmdir(dir); /* only when no other instance is left */
	return 0;
}

int pipeline_sources(const char *name, int gen, struct addr *out, size_t max)
{
	struct source_key prev, next;
	bool first = true;
	__u32 zero = 0, ctlw;
	size_t n = 0;
	int fd;

	if (gen < 0) {
		fd = pins_get(name, "ctl");
		if (fd < 0)
			return fd;
		if (bpf_map_lookup_elem(fd, &zero, &ctlw)) {
			close(fd);
			return -errno;
		}
		close(fd);
		gen = ctlw & CTL_GEN_MASK;
	}
	fd = pins_get(name, "sources");
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
