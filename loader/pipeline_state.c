/* pipeline_state.c: what an install leaves behind: its pins, and the rule list beside them. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "edit_base.h"
#include "learn_rules.h"
#include "req_hash.h"
#include "pipeline_state.h"

int txn_pin(const struct txn *t, int fd, const char *object, struct diag *d)
{
	char path[PIN_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->dir, object) >= sizeof(path))
		return -ENAMETOOLONG;
	unlink(path);
	if (bpf_obj_pin(fd, path)) {
		diag_error(d, NULL, 0, "cannot pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* unpins stage programs and rule maps of stages that are no longer in the profile */
void txn_unpin_removed_stages(const struct txn *t, const struct install_req *rq)
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
		else if (!strncmp(de->d_name, PIN_RULES4_PREFIX, strlen(PIN_RULES4_PREFIX)))
			snprintf(sn, sizeof(sn), "%s", de->d_name + strlen(PIN_RULES4_PREFIX));
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

/*
 * The installed rules, one a line (counts.h): number, stage, file, line,
 * what the same rule counted before, text. The counters in rule_counts are
 * indexed by the number. Written beside, then renamed over the old list, so
 * a reader sees one profile or the other. Written just after the switch: the
 * old generation's last in-flight packets may miss the carried counts.
 */
struct rule_list_job {
	const struct install_req *rq;
	const struct counts_snapshot *old;
	unsigned long long token;
};

static int rule_list_fill(FILE *f, void *arg)
{
	const struct rule_list_job *j = arg;
	const struct install_req *rq = j->rq;
	const struct plan *pl = rq->plan;
	struct pkt_count carried;
	size_t e = 0;

	/* the token live edits in place name it by (rule_edits.h); no reader takes it for a rule */
	fprintf(f, "#base %llu%s\n", j->token,
		counts_snapshot_carries(j->old) ? "" : COUNTS_NOTHING_CARRIED);
	/* the address rules, the 'allow dns' lines, the name rules: the order of their counters */
	for (size_t id = 0; id < profile_nr_origins(rq->profile); id++) {
		const struct rule_origin *o = profile_origin(rq->profile, id);
		const char *stage = "dns";

		if (id < rq->profile->nr_rules) {
			while (e < pl->nr_entries && pl->entries[e].rule < id)
				e++;
			stage = e >= pl->nr_entries ? "?" :
				pl->entries[e].stage == PLAN_STAGE_ALL ?
						      "all" :
						      rq->stages[pl->entries[e].stage].desc.name;
		} else if (id >= rq->profile->nr_rules + rq->profile->nr_dns_names) {
			size_t i = id - rq->profile->nr_rules - rq->profile->nr_dns_names;

			stage = rq->stages[pl->name_stages[i]].desc.name;
		}
		counts_carried_over(j->old, o->file, o->text, &carried);
		rule_list_write(f, id, stage, o->file, o->line, &carried, o->text);
	}
	return ferror(f) ? -EIO : 0;
}

int txn_write_rule_list(const struct install_req *rq, const struct counts_snapshot *old,
			unsigned long long token, bool beside, struct diag *d)
{
	struct rule_list_job j = { .rq = rq, .old = old, .token = token };
	char path[PIN_PATH_MAX] = "";
	int err;

	/* streamed into the file beside the list, then renamed over it (beside: not yet) */
	err = state_dir_ensure(rq->name, d);
	if (!err)
		err = state_path(path, sizeof(path), rq->name, STATE_RULE_LIST);
	if (!err)
		err = beside ? state_write_side(path, rule_list_fill, &j) :
			       state_write_stream(path, rule_list_fill, &j);
	if (err)
		diag_error(d, NULL, 0, "cannot write the rule list %s: %s", path, strerror(-err));
	return err;
}

int txn_rule_list_commit(const struct install_req *rq, bool keep, struct diag *d)
{
	char path[PIN_PATH_MAX] = "";
	int err = state_path(path, sizeof(path), rq->name, STATE_RULE_LIST);

	if (!err)
		err = state_side_commit(path, keep);
	if (err)
		diag_error(d, NULL, 0, "cannot rename the rule list into %s: %s", path,
			   strerror(-err));
	return err;
}

int txn_write_edit_base(const struct txn *t, const struct install_req *rq, unsigned long long token,
			const char *hash, struct diag *d)
{
	struct edit_base *b = calloc(1, sizeof(*b));
	const struct profile *p = rq->profile;
	char live[STATE_PATH_MAX], *text = NULL;
	size_t len = 0;
	int err = b ? 0 : -ENOMEM;

	if (!err)
		err = state_path(live, sizeof(live), rq->name, STATE_LIVE_RULES);
	if (err)
		goto out;
	b->token = token;
	b->gen = t->gen;
	b->xdp = t->xdp_hooks;
	b->ids = profile_nr_origins(p);
	/* the drop-in is read after the profile's files: its address rules are the last ones */
	b->live_end = b->live_first = p->nr_rules;
	while (b->live_first && !strcmp(p->rules[b->live_first - 1].o.file, live))
		b->live_first--;
	for (size_t i = 0; i < t->nr_ls && i < MAX_STAGES; i++) {
		b->stages[i].desc = rq->stages[i].desc;
		b->stages[i].follows_names = rq->stages[i].follows_names;
		b->baked[i] = t->ls[i].baked;
	}
	b->nr_stages = t->nr_ls < MAX_STAGES ? t->nr_ls : MAX_STAGES;
	if (hash) {
		memcpy(b->hash, hash, REQ_HASH_LEN); /* computed once, for the reload's test */
	} else {
		size_t elf_len;
		const void *elf = dispatcher__elf_bytes(&elf_len);

		req_hash(rq, elf, elf_len, b->hash);
	}
	err = edit_base_format(b, &text, &len);
	if (!err)
		err = state_write_instance_file(rq->name, STATE_EDIT_BASE, text, len, d);
	if (!err && !state_path(live, sizeof(live), rq->name, STATE_RULE_EDITS))
		unlink(live); /* of the generation before: its token is not this one */
out:
	free(text);
	free(b);
	return err;
}

void pins_remove_dir(const char *dir)
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

/* pins one rule map when it has no pin yet; after the flip, also when it replaces a pin */
static int txn_pin_rule_map(struct txn *t, int fd, const char *obj, bool replaced,
			    bool *pinned_here, bool flipped, struct diag *d)
{
	char path[PIN_PATH_MAX];
	struct stat sb;
	int err = 0;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", t->dir, obj);
	if (flipped && replaced) {
		err = txn_pin(t, fd, obj, d);
	} else if (!flipped && stat(path, &sb)) {
		err = txn_pin(t, fd, obj, d);
		*pinned_here = !err;
	}
	return err;
}

/* pins rule maps that have no pin yet; after the flip, also the ones that replace a pin */
int txn_pin_rule_maps(struct txn *t, const struct install_req *rq, bool flipped, struct diag *d)
{
	for (size_t i = 0; i < t->nr_ls; i++) {
		struct loaded_stage *ls = &t->ls[i];
		char obj[64], obj4[64];
		int err;

		pin_name_rules(obj, sizeof(obj), rq->stages[i].desc.name);
		pin_name_rules4(obj4, sizeof(obj4), rq->stages[i].desc.name);
		err = txn_pin_rule_map(t, ls->rules_fd, obj, ls->rules_replaced, &ls->rules_pinned_here, flipped, d) ?:
			      txn_pin_rule_map(t, ls->rules4_fd, obj4, ls->rules4_replaced,
					       &ls->rules4_pinned_here, flipped, d);
		if (err)
			return err;
	}
	return 0;
}

int txn_pin_programs(const struct txn *t, const struct install_req *rq, struct diag *d)
{
	int err = txn_pin(t, bpf_program__fd(t->skel->progs.dispatch_tc), "dispatch_tc", d);

	if (!err && t->xdp_hooks)
		err = txn_pin(t, bpf_program__fd(t->skel->progs.dispatch_xdp), "dispatch_xdp", d);

	/* the host-side tc ingress dispatcher, the one that rewrites DNS ids (tests run it) */
	if (!err)
		err = txn_pin(t, bpf_program__fd(t->skel->progs.dispatch_tc_host),
			      "dispatch_tc_host", d);
	if (!err)
		err = txn_pin(t, bpf_program__fd(t->skel->progs.learn_tc), "learn_tc", d);

	if (!err)
		err = txn_pin(t, bpf_map__fd(t->skel->maps.rule_counts), "rule_counts", d);

	for (size_t i = 0; !err && i < t->nr_ls; i++) {
		char obj[64];

		pin_name_stage(obj, sizeof(obj), rq->stages[i].desc.name);
		err = txn_pin(t, t->ls[i].prog_fds[HOOK_TC], obj, d);
	}
	return err;
}
