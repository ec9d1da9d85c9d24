/* ruleset.c: a profile with its stages and plan: everything check, install and explain read; no BPF. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "phases.h"
#include "ruleset.h"
#include "stage_builtin.h"

/* the stage objects after the built-in ones; each path is refused or read */
static int load_stage_files(char *const *paths, size_t nr, struct stage *out, size_t *n, size_t max,
			    struct diag *d)
{
	int err = 0;

	for (size_t i = 0; i < nr; i++) {
		int e;

		if (*n == max) {
			diag_error(d, paths[i], 0, "too many stages (at most %zu)", max);
			return -E2BIG;
		}
		e = stage_from_file(paths[i], &out[*n], d);
		if (e) {
			err = err ? err : e;
			continue;
		}
		(*n)++;
	}
	return err;
}

static int ends_with_bpf_o(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 6 && !strcmp(de->d_name + len - 6, ".bpf.o");
}

int ruleset_stages(const char *dir, struct stage *out, size_t max, struct diag *d)
{
	struct dirent **names = NULL;
	char **paths = NULL;
	size_t n = 0;
	int nr, err = 0;

	err = stage_builtin(out, max, d);
	if (err < 0)
		return err;
	n = err;
	nr = scandir(dir, &names, ends_with_bpf_o, alphasort);
	if (nr < 0) {
		err = -errno;
		diag_error(d, dir, 0, "cannot read the profile directory: %s", strerror(-err));
		goto out;
	}
	paths = calloc(nr + 1, sizeof(*paths));
	err = paths ? 0 : -ENOMEM;
	for (int i = 0; !err && i < nr; i++)
		if (asprintf(&paths[i], "%s/%s", dir, names[i]->d_name) < 0)
			err = -ENOMEM;
	if (!err)
		err = load_stage_files(paths, nr, out, &n, max, d);
	for (int i = 0; i < nr; i++) {
		free(names[i]);
		if (paths)
			free(paths[i]);
	}
	free(names);
	free(paths);
out:
	if (err) {
		while (n--)
			stage_free(&out[n]);
		return err;
	}
	return n;
}

/* "audit stage NAME": the slots of the stages named; an unknown name is refused */
static int audit_slots(struct ruleset *rs, struct diag *d)
{
	int err = 0;

	for (size_t i = 0; i < rs->prof.nr_audits; i++) {
		const struct audit_line *a = &rs->prof.audits[i];
		size_t s;

		if (a->tool)
			continue;
		for (s = 0; s < rs->nr_stages && strcmp(rs->stages[s].desc.name, a->name); s++)
			;
		if (s == rs->nr_stages) {
			diag_error(d, a->file, a->line,
				   "audit names stage '%s', which no object has", a->name);
			err = -EINVAL;
		} else {
			rs->audit_slots |= 1u << rs->stages[s].desc.slot;
		}
	}
	return err;
}

int ruleset_plan(struct ruleset *rs, const char *cgroup, bool need_tools, struct diag *d)
{
	int n, err = 0;

	if (cgroup)
		err = sandbox_cgroup_open(cgroup, &rs->cgroup, d);
	if (!err && (cgroup || need_tools))
		err = profile_resolve_tools(&rs->prof, cgroup ? &rs->cgroup : NULL, d);
	rs->has_tools = !err && profile_names_tools(&rs->prof);
	if (!err && cgroup)
		rs->tool_level = rs->cgroup.level + 1;
	n = stage_builtin(rs->stages, MAX_STAGES, d);
	if (n < 0)
		return n;
	rs->nr_stages = n;
	n = load_stage_files(rs->prof.stage_paths, rs->prof.nr_stage_paths, rs->stages,
			     &rs->nr_stages, MAX_STAGES, d);
	err = err ? err : n;
	if (!err)
		err = audit_slots(rs, d);
	if (!err)
		err = plan_build(&rs->prof, rs->stages, rs->nr_stages, &rs->plan, d);
	return err;
}

int ruleset_load(const char *dir, const char *live_dir, const char *cgroup, bool need_tools,
		 struct ruleset *rs, struct diag *d)
{
	int err, e;

	memset(rs, 0, sizeof(*rs));
	err = profile_load_dir(dir, NULL, &rs->prof, d);
	/* live edits (allow/revoke) come after the profile's own files */
	if (!err && live_dir && !access(live_dir, F_OK))
		err = profile_load_dir(live_dir, NULL, &rs->prof, d);
	phase_mark("parse");
	/* the stages are read even so: their errors are shown with the profile's */
	e = ruleset_plan(rs, err ? NULL : cgroup, need_tools && !err, d);
	phase_mark("plan");
	return err ? err : e;
}

void ruleset_free(struct ruleset *rs)
{
	plan_free(&rs->plan);
	for (size_t i = 0; i < rs->nr_stages; i++)
		stage_free(&rs->stages[i]);
	profile_free(&rs->prof);
}
