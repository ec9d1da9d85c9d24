/* instance_edit.c: live edits of an instance: allow and revoke through its drop-in, in place or switched in one step. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "counts.h"
#include "events.h"
#include "history.h"
#include "metrics.h"
#include "explain.h"
#include "instance.h"
#include "pins.h"
#include "pipeline.h"
#include "pipeline_edit.h"
#include "pipeline_l2.h"
#include "status.h"

/* the rule a line gives (its first, for a host name), or -EINVAL with the error in d */
static int parse_one_rule(const char *line, const char *where, struct profile *p, struct diag *d)
{
	int err = profile_parse_line(p, where, 1, line, NULL, d);

	if (!err && !p->nr_rules && !p->nr_dns_names && !p->nr_name_rules) {
		diag_error(d, where, 1, "no rule given");
		err = -EINVAL;
	}
	return err;
}

/* the text of the one rule a line gave: an address rule, an 'allow dns' line or a name rule */
static const char *line_text(const struct profile *p)
{
	return profile_origin(p, 0)->text;
}

/* the same rule, however it was spelled (10.0.0.1 and 10.0.0.1/32, spaces, case) */
static bool same_rule(const struct profile *pa, const struct profile *pb)
{
	/* one line: one kind of rule (a host name may give several address rules) */
	if (!pa->nr_rules != !pb->nr_rules || !pa->nr_dns_names != !pb->nr_dns_names ||
	    !pa->nr_name_rules != !pb->nr_name_rules ||
	    !rule_origin_same_tool(profile_origin(pa, 0), profile_origin(pb, 0)))
		return false;
	if (pa->nr_name_rules) {
		const struct name_rule *x = &pa->name_rules[0], *y = &pb->name_rules[0];

		return x->l4proto == y->l4proto && x->port_lo == y->port_lo &&
		       x->port_hi == y->port_hi && !strcmp(x->host, y->host);
	}
	if (pa->nr_dns_names)
		return pa->dns_names[0].wildcard == pb->dns_names[0].wildcard &&
		       !strcmp(pa->dns_names[0].name, pb->dns_names[0].name);
	return pa->rules[0].l4proto == pb->rules[0].l4proto &&
	       pa->rules[0].port_lo == pb->rules[0].port_lo &&
	       pa->rules[0].port_hi == pb->rules[0].port_hi &&
	       addr_equal(&pa->rules[0].dst, &pb->rules[0].dst);
}

/* the drop-in without the lines that are this rule; -ENOENT when none was */
static int drop_in_without(const char *old, size_t old_len, const char *path,
			   const struct profile *want, char **text)
{
	size_t tlen = 0, removed = 0;
	FILE *m = open_memstream(text, &tlen);
	char *save = NULL, *copy = old ? strndup(old, old_len) : NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; m && l;
	     l = strtok_r(NULL, "\n", &save)) {
		struct profile have = {};
		struct diag quiet = {};

		if (!parse_one_rule(l, path, &have, &quiet) && same_rule(&have, want))
			removed++;
		else
			fprintf(m, "%s\n", l);
		profile_free(&have);
		diag_free(&quiet);
	}
	free(copy);
	if (!m || fclose(m))
		return -ENOMEM;
	return removed ? 0 : -ENOENT;
}

/*
 * The rule list of the policy in force holds this rule from the drop-in at path. An edit
 * killed between writing the drop-in and the switch leaves the two apart: the same edit
 * run again sees it, and only switches.
 */
static bool live_rule_in_force(const char *name, const char *path, const struct profile *want)
{
	char *text, *save = NULL;
	bool found = false;
	size_t len;

	text = rule_list_read(name, &len);
	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l && !found;
	     l = strtok_r(NULL, "\n", &save)) {
		struct rule_list_entry e;
		struct profile have = {};
		struct diag quiet = {};

		if (!rule_list_parse(l, &e) && !strcmp(e.file, path) &&
		    !parse_one_rule(e.text, path, &have, &quiet))
			found = same_rule(&have, want);
		profile_free(&have);
		diag_free(&quiet);
	}
	free(text);
	return found;
}

/* the line of the drop-in that is this rule (1: the first), or one past its last */
static int drop_in_line(const char *old, size_t old_len, const char *path,
			const struct profile *want)
{
	char *save = NULL, *copy = old ? strndup(old, old_len) : NULL;
	int n = 0, at = 0;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && !at;
	     l = strtok_r(NULL, "\n", &save)) {
		struct profile have = {};
		struct diag quiet = {};

		n++;
		if (!parse_one_rule(l, path, &have, &quiet) && same_rule(&have, want))
			at = n;
		profile_free(&have);
		diag_free(&quiet);
	}
	free(copy);
	return at ? at : n + 1;
}

/*
 * The edit into the generation in force, when it fits there (edit_base.h):
 * -EAGAIN when it needs a switch, or when only a switch can tell what is
 * wrong with it (the rule is the profile's own, or overlaps one); the rest
 * as instance_edit. Nothing of the profile is read: the time does not grow
 * with the profile.
 */
static int edit_in_place(struct instance *in, const struct profile *want, bool add,
			 const char *path, const char *old, size_t old_len, struct diag *d)
{
	struct pipeline_edit *e = calloc(1, sizeof(*e));
	char *text = NULL;
	const char *drop_in = NULL;
	bool in_drop_in;
	sigset_t hold, saved;
	int err = e ? pipeline_edit_prepare(in->name, want, add, e, d) : -ENOMEM;

	if (err || e->way != EDIT_IN_PLACE) {
		err = err == -ENOMEM ? err : -EAGAIN;
		goto out;
	}
	err = drop_in_without(old, old_len, path, want, &text);
	in_drop_in = !err;
	if (err && err != -ENOENT)
		goto out;
	err = 0;
	if (add && e->in_force && in_drop_in) {
		int lines = 0;

		for (size_t i = 0; i < old_len; i++)
			lines += old[i] == '\n';
		/* as the profile's check says it: the line it would have been */
		diag_error(d, path, lines + 1, "duplicate of %s:%d ('%s')", path,
			   drop_in_line(old, old_len, path, want), line_text(want));
		err = -EEXIST;
		goto out;
	}
	/* the profile's own rule, or an overlap: the switch's checks say so */
	if ((add && e->in_force) || (!add && e->in_force && !e->from_drop_in) ||
	    (!add && !e->in_force && !in_drop_in)) {
		err = -EAGAIN;
		goto out;
	}
	/* not in the drop-in yet, or in it still: an allow or revoke of the old way killed */
	if (add && !in_drop_in) {
		free(text);
		text = NULL;
		if (asprintf(&text, "%.*s%s\n", (int)old_len, old ? old : "", line_text(want)) <
		    0) {
			text = NULL;
			err = -ENOMEM;
			goto out;
		}
		drop_in = text;
	} else if (!add && in_drop_in) {
		drop_in = text;
	}
	/* from the intent to the last step, INT, TERM and HUP wait */
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &saved);
	err = pipeline_edit_commit(e, path, drop_in, line_text(want),
				   drop_in_line(drop_in ? drop_in : old,
						drop_in ? strlen(drop_in) : old_len, path, want),
				   d);
	sigprocmask(SIG_SETMASK, &saved, NULL);
out:
	if (e)
		pipeline_edit_free(e);
	free(e);
	free(text);
	return err;
}

int instance_edit(struct instance *in, const char *rule, bool add, char **done, struct diag *d)
{
	char line[1024], path[STATE_PATH_MAX];
	struct install_result res;
	struct profile want = {};
	sigset_t hold, saved;
	char *old = NULL, *text = NULL;
	size_t old_len = 0;
	int err;

	if ((size_t)snprintf(line, sizeof(line), "allow %s", rule) >= sizeof(line)) {
		diag_error(d, "command line", 0, "the rule is longer than %zu bytes", sizeof(line));
		return -E2BIG;
	}
	err = parse_one_rule(line, "command line", &want, d);
	if (err)
		goto out;
	if (!in->installed || !in->has_conf) {
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		err = -ENOENT;
		goto out;
	}
	state_path(path, sizeof(path), in->name, STATE_LIVE_RULES);
	old = state_read_file(path, &old_len);
	if (!old && errno != ENOENT) {
		err = -errno;
		diag_error(d, path, 0, "cannot read: %s", strerror(-err));
		goto out;
	}
	err = edit_in_place(in, &want, add, path, old, old_len, d);
	if (err != -EAGAIN)
		goto finish;
	if (add) {
		/* the drop-in has it and the policy does not: an allow killed before its switch */
		err = drop_in_without(old, old_len, path, &want, &text);
		free(text);
		text = NULL;
		if (!err && !live_rule_in_force(in->name, path, &want))
			text = strndup(old, old_len);
		else if (asprintf(&text, "%.*s%s\n", (int)old_len, old ? old : "",
				  line_text(&want)) < 0)
			text = NULL;
		err = text ? 0 : -ENOMEM;
	} else {
		err = drop_in_without(old, old_len, path, &want, &text);
		/* the policy has it and the drop-in does not: a revoke killed before its switch */
		if (err == -ENOENT && live_rule_in_force(in->name, path, &want)) {
			free(text);
			text = strndup(old ? old : "", old_len);
			err = text ? 0 : -ENOMEM;
		}
		if (err == -ENOENT)
			diag_error(
				d, NULL, 0,
				"'%s' was not added with allow; rules of the profile are changed "
				"in its files, then 'ironclaw-pipe reload'",
				line_text(&want));
	}
	if (err)
		goto out;
	/* from the drop-in's change to the switch, INT, TERM and HUP wait */
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &saved);
	err = state_write_file(path, text, strlen(text));
	if (err)
		diag_error(d, path, 0, "cannot write: %s", strerror(-err));
	if (!err) {
		err = instance_reload(in, &res, d);
		/* the running policy never changed: put the drop-in back as it was */
		if (err && old)
			state_write_file(path, old, old_len);
		else if (err)
			unlink(path);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
finish:
	if (!err) {
		*done = strdup(line_text(&want));
		err = *done ? 0 : -ENOMEM;
	}
out:
	free(old);
	free(text);
	profile_free(&want);
	return err;
}
