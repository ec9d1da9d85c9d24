/* pipeline_dry.c: explain's copy of an instance's pipeline: dry_run set, the instance's maps, checked code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pipeline_dry.h"
#include "pipeline_load.h"
#include "policy.h"
#include "status.h"

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
	int pinned = pins_get(name, pin), err;

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

	for (enum hook_id h = HOOK_FIRST; !err && h < NR_HOOKS; h++) {
		int banks, live;
		__u32 id;

		if (ls->prog_fds[h] < 0)
			continue;
		banks = pins_get(name, hooks[h].banks);
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

int pipeline_dry_load(const char *name, const struct stage *candidates, size_t nr, bool cgroup_skb,
		      bool xdp, __u64 tool, struct dry_pipeline **out, struct diag *d)
{
	char names[STAGE_MAX_SLOTS][STAGE_NAME_LEN];
	struct dry_pipeline *dp = calloc(1, sizeof(*dp));
	struct gen_config cfg;
	__u32 zero = 0;
	int err;

	*out = NULL;
	if (!dp)
		return -ENOMEM;
	dp->t.xdp_map = -1;
	dp->t.xdp_old_dispatcher = -1;
	dp->t.existing = true;
	dp->t.dry_run = true;
	dp->t.cgroup_hooks = cgroup_skb;
	dp->t.xdp_hooks = xdp;
	dp->t.dry_tool = tool;
	dp->t.ls = calloc(STAGE_MAX_SLOTS, sizeof(*dp->t.ls));
	err = dp->t.ls ? status_stage_names(name, names) : -ENOMEM;
	if (err) {
		diag_error(d, NULL, 0, "instance '%s': cannot read its stages: %s", name,
			   strerror(-err));
		goto fail;
	}
	err = txn_open_dispatcher(&dp->t, name, 0, d);
	if (err)
		goto fail;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->t.skel->maps.ctl), &zero, &dp->t.old_ctl)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot read the control word of '%s': %s", name,
			   strerror(errno));
		goto fail;
	}
	dp->t.gen = dp->t.old_ctl & CTL_GEN_MASK;
	/* the stages as the generation in force loaded them: with the server-name check or not */
	if (bpf_map_lookup_elem(bpf_map__fd(dp->t.skel->maps.config), &dp->t.gen, &cfg)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot read the settings of '%s': %s", name,
			   strerror(errno));
		goto fail;
	}
	dp->t.sni_skip = !(cfg.flags & GEN_SNI);
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
		err = txn_load_stage(&dp->t, name, st, 0, 0, NULL, ls, d);
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
		for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++) {
			if (ls->prog_fds[h] < 0)
				continue;
			if (bpf_map_update_elem(txn_map_fd(&dp->t, hooks[h].banks), &idx,
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

int pipeline_dry_prog(const struct dry_pipeline *dp, enum hook_id hook)
{
	struct bpf_program *p;

	if (hook < HOOK_FIRST || hook >= NR_HOOKS || !txn_hook_loaded(&dp->t, hook))
		return -ENOENT;
	p = bpf_object__find_program_by_name(dp->t.skel->obj, hooks[hook].dispatcher);
	return p ? bpf_program__fd(p) : -ENOENT;
}

void pipeline_dry_free(struct dry_pipeline *dp)
{
	if (!dp)
		return;
	txn_free(&dp->t);
	free(dp);
}
