/* pipeline_edit.c: live edits in place: a rule added to or removed from the generation in force, no switch. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "counts.h"
#include "pins.h"
#include "ctl.h"
#include "pipeline_edit.h"
#include "rules4.h"
#include "policy.h"
#include "state.h"

/*
 * The crash test's kill points (tests/e2e/t_crash.sh): IRONCLAW_KILL_AT=STEP
 * kills the process right after that step of an edit in place, as a kill
 * from outside would at that moment.
 */
void pipeline_kill_point(const char *step)
{
	const char *at = getenv("IRONCLAW_KILL_AT");

	if (at && !strcmp(at, step))
		raise(SIGKILL);
}

/* the token in the first line of the rule list in force: read alone, whatever its size */
static unsigned long long list_token(const char *name)
{
	char path[STATE_PATH_MAX], head[64] = "";
	ssize_t n;
	int fd;

	if (state_path(path, sizeof(path), name, STATE_RULE_LIST))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	head[n > 0 ? n : 0] = '\0';
	return rule_list_token(head);
}

/* the rule counters' room: an id at or past it has no counter */
static __u32 counts_room(const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = pins_get(name, "rule_counts");

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

/* the value of entry re in its map: 0, -ENOENT, or another -errno */
static int entry_lookup(const char *name, const char *map, const struct rule_entry *re,
			struct policy_value *v)
{
	int fd = pins_get(name, map), err = 0;

	if (fd < 0)
		return fd;
	if (re->map == RULE_MAP_RULES4)
		err = rules4_fd_get(fd, rules4_key(&re->key.k4), v);
	else if (bpf_map_lookup_elem(fd, rule_entry_key(re), v))
		err = -errno;
	close(fd);
	return err;
}

/* whether rules4 table `map` has room in place for entry re (rules4.h: probe bound, load) */
static bool entry_room(const char *name, const char *map, const struct rule_entry *re)
{
	int fd = pins_get(name, map);
	bool room = fd >= 0 && rules4_fd_room(fd, rules4_key(&re->key.k4));

	if (fd >= 0)
		close(fd);
	return room;
}

static int read_base(const char *name, struct edit_base *b)
{
	char path[STATE_PATH_MAX], *text;
	size_t len;
	int err;

	err = state_path(path, sizeof(path), name, STATE_EDIT_BASE);
	text = err ? NULL : state_read_file(path, &len);
	if (!text)
		return err ? err : -errno;
	err = edit_base_parse(text, b);
	free(text);
	return err;
}

/* the edits since the switch of token (none yet: a fresh record, ids from next) */
static int read_edits(const char *name, unsigned long long token, unsigned long next,
		      struct rule_edits *e)
{
	char path[STATE_PATH_MAX], *text;
	size_t len;
	int err = state_path(path, sizeof(path), name, STATE_RULE_EDITS);

	text = err ? NULL : state_read_file(path, &len);
	if (text) {
		err = rule_edits_parse(text, e);
		free(text);
		if (!err && e->token == token)
			return 0;
		rule_edits_free(e);
	}
	memset(e, 0, sizeof(*e));
	e->token = token;
	e->next = next;
	return 0;
}

int pipeline_edit_prepare(const char *name, const struct profile *want, bool add,
			  struct pipeline_edit *e, struct diag *d)
{
	const struct rule *r = &want->rules[0];
	bool no_room = false;
	struct plan pl = {};
	__u32 ctl;
	int err;

	(void)d;
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->add = add;
	err = read_base(name, &e->base);
	if (!err)
		err = ctl_read_pinned(name, &ctl);
	/* a switch since: its edit base or its rule list not written yet (a kill), or another */
	if (!err && ((ctl & CTL_GEN_MASK) != e->base.gen || list_token(name) != e->base.token))
		err = -ESTALE;
	if (!err)
		err = read_edits(name, e->base.token, e->base.ids, &e->edits);
	if (err)
		return err;
	err = edit_classify(&e->base, want, &pl);
	if (err < 0)
		return err;
	e->way = err;
	if (e->way != EDIT_IN_PLACE)
		return 0;
	e->rule_id = e->edits.next;
	e->stage = e->base.stages[pl.entries[0].stage].desc.name;
	for (size_t i = 0; i < pl.nr_entries && i < EDIT_MAX_ENTRIES; i++) {
		const struct plan_entry *pe = &pl.entries[i];
		struct rule_entry *re = &e->entries[i];
		struct policy_value v;

		rule_entry_encode(e->base.gen, r, pe, e->base.stages[pe->stage].desc.map_kind,
				  e->rule_id, re);
		(re->map == RULE_MAP_RULES4 ? pin_name_rules4 : pin_name_rules)(
			e->maps[i], sizeof(e->maps[i]), e->base.stages[pe->stage].desc.name);
		err = entry_lookup(name, e->maps[i], re, &v);
		if (err && err != -ENOENT)
			break;
		e->nr_entries++;
		if (err == -ENOENT) {
			err = 0;
			no_room |= add && re->map == RULE_MAP_RULES4 &&
				   !entry_room(name, e->maps[i], re);
			continue;
		}
		if (!add && i == 0) {
			e->rule_id = v.rule_id;
			e->from_drop_in =
				(v.rule_id >= e->base.live_first && v.rule_id < e->base.live_end) ||
				v.rule_id >= e->base.ids;
		}
		e->in_force |= add || i == 0;
	}
	plan_free(&pl);
	if (!err && add && !e->in_force && (e->rule_id >= counts_room(name) || no_room))
		e->way =
			EDIT_SWITCH_PORTS; /* no counter or slot left for it: a switch makes room */
	return err;
}

/* bytes as hex into f */
static void hex_put(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
}

static int hex_get(const char *s, void *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		((unsigned char *)p)[i] = b;
	}
	return 0;
}

/*
 * The intent (STATE_EDIT_INTENT), text:
 *   #intent TOKEN GEN add|del
 *   entry MAP SIZE KEYHEX VALUEHEX      (one a rule map entry)
 *   dropin LEN | dropin -               (then LEN bytes: the drop-in as it will be)
 *   edits LEN                           (then LEN bytes: rules.edits as it will be)
 */
struct intent {
	unsigned long long token;
	unsigned int gen;
	bool add;
	struct rule_entry entries[EDIT_MAX_ENTRIES];
	char maps[EDIT_MAX_ENTRIES][40];
	size_t nr_entries;
	const char *drop_in, *edits; /* into the intent's text; drop_in NULL: left as it is */
	size_t drop_in_len, edits_len;
};

/* "NAME LEN\n" then LEN bytes, at *p; moves *p past them */
static int blob_get(const char **p, const char *end, const char *name, const char **blob,
		    size_t *len)
{
	size_t nl = strlen(name);
	char *after;

	if ((size_t)(end - *p) < nl + 2 || strncmp(*p, name, nl) || (*p)[nl] != ' ')
		return -EINVAL;
	*p += nl + 1;
	if (**p == '-') {
		*blob = NULL;
		*p += 2;
		return 0;
	}
	*len = strtoul(*p, &after, 10);
	if (*after != '\n' || (size_t)(end - after - 1) < *len)
		return -EINVAL;
	*blob = after + 1;
	*p = after + 1 + *len;
	return 0;
}

static int intent_parse(const char *text, size_t len, struct intent *in)
{
	const char *p = text, *end = text + len;
	char op[4];
	int n;

	memset(in, 0, sizeof(*in));
	if (sscanf(p, "#intent %llu %u %3s%n", &in->token, &in->gen, op, &n) != 3 || in->gen > 1)
		return -EINVAL;
	in->add = !strcmp(op, "add");
	p = strchr(p, '\n');
	while (p && ++p < end && !strncmp(p, "entry ", 6)) {
		struct rule_entry *re = &in->entries[in->nr_entries];
		char key[2 * sizeof(re->key) + 1], val[2 * sizeof(re->value) + 1], fmt[40];

		snprintf(fmt, sizeof(fmt), "entry %%39s %%zu %%%zus %%%zus", sizeof(key) - 1,
			 sizeof(val) - 1);
		if (in->nr_entries == EDIT_MAX_ENTRIES ||
		    sscanf(p, fmt, in->maps[in->nr_entries], &re->size, key, val) != 4 ||
		    (re->size != sizeof(re->key.k) && re->size != sizeof(re->key.lpm) &&
		     re->size != sizeof(re->key.k4)) ||
		    hex_get(val, &re->value, sizeof(re->value)) ||
		    hex_get(key, (void *)rule_entry_key(re), re->size))
			return -EINVAL;
		in->nr_entries++;
		p = strchr(p, '\n');
	}
	if (!p || blob_get(&p, end, "dropin", &in->drop_in, &in->drop_in_len) ||
	    blob_get(&p, end, "edits", &in->edits, &in->edits_len) || !in->edits)
		return -EINVAL;
	return 0;
}

/* the intent carried out; each step may be done again (a kill during it) */
static int intent_apply(const char *name, const struct intent *in, struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err = 0;

	if (in->drop_in) {
		err = state_path(path, sizeof(path), name, STATE_LIVE_RULES);
		if (!err)
			err = state_write_file(path, in->drop_in, in->drop_in_len);
		if (err) {
			diag_error(d, path, 0, "cannot write: %s", strerror(-err));
			return err;
		}
		pipeline_kill_point("drop-in");
	}
	for (size_t i = 0; i < in->nr_entries; i++) {
		const struct rule_entry *re = &in->entries[i];
		int fd = pins_get(name, in->maps[i]);

		err = fd < 0 ? fd : 0;
		if (!err && re->size == sizeof(re->key.k4)) {
			/* in a table (rules4.h); done before a kill: there already, or gone */
			err = in->add ? rules4_fd_add(fd, rules4_key(&re->key.k4), &re->value) :
					rules4_fd_del(fd, rules4_key(&re->key.k4));
			err = err == -EEXIST || err == -ENOENT ? 0 : err;
		} else if (!err && in->add &&
			   bpf_map_update_elem(fd, rule_entry_key(re), &re->value, BPF_ANY)) {
			err = -errno;
		} else if (!err && !in->add && bpf_map_delete_elem(fd, rule_entry_key(re)) &&
			   errno != ENOENT) {
			err = -errno;
		}
		if (fd >= 0)
			close(fd);
		if (err) {
			diag_error(d, NULL, 0, "cannot %s the rule %s map %s: %s",
				   in->add ? "add" : "remove", in->add ? "to" : "from", in->maps[i],
				   strerror(-err));
			return err;
		}
		pipeline_kill_point("map");
	}
	err = state_write_instance_file(name, STATE_RULE_EDITS, in->edits, in->edits_len, d);
	if (!err)
		pipeline_kill_point("edits");
	if (!err)
		err = state_path(path, sizeof(path), name, STATE_EDIT_INTENT);
	if (!err && unlink(path))
		err = -errno;
	return err;
}

int pipeline_edit_commit(struct pipeline_edit *e, const char *path, const char *drop_in,
			 const char *line_text, int line, struct diag *d)
{
	char *edits = NULL, *intent_text = NULL, list_line[1200];
	size_t elen = 0, ilen = 0;
	struct intent in;
	struct pkt_count zero = {};
	FILE *f;
	int err = 0;

	/* the rule list as the edit leaves it */
	if (e->add && !e->in_force) {
		FILE *l = fmemopen(list_line, sizeof(list_line), "w");

		if (l) {
			rule_list_write(l, e->rule_id, e->stage, path, line, &zero, line_text);
			err = fclose(l) ? -E2BIG : 0;
		}
		err = l ? err : -ENOMEM;
		if (!err)
			err = rule_edits_add(&e->edits, list_line);
		e->edits.next = e->rule_id + 1;
	} else if (!e->add && e->in_force) {
		err = rule_edits_revoke(&e->edits, e->rule_id);
	}
	if (!err)
		err = rule_edits_format(&e->edits, &edits, &elen);
	if (err)
		goto out;
	f = open_memstream(&intent_text, &ilen);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	fprintf(f, "#intent %llu %u %s\n", e->base.token, e->base.gen, e->add ? "add" : "del");
	/* an add of a rule in force, a revoke of one that is not: the files alone */
	for (size_t i = 0; e->add != e->in_force && i < e->nr_entries; i++) {
		fprintf(f, "entry %s %zu ", e->maps[i], e->entries[i].size);
		hex_put(f, rule_entry_key(&e->entries[i]), e->entries[i].size);
		fputc(' ', f);
		hex_put(f, &e->entries[i].value, sizeof(e->entries[i].value));
		fputc('\n', f);
	}
	if (drop_in)
		fprintf(f, "dropin %zu\n%s", strlen(drop_in), drop_in);
	else
		fprintf(f, "dropin -\n");
	fprintf(f, "edits %zu\n", elen);
	fwrite(edits, 1, elen, f);
	if (fclose(f)) {
		err = -ENOMEM;
		goto out;
	}
	err = intent_parse(intent_text, ilen, &in);
	if (err)
		goto out;
	err = state_write_instance_file(e->name, STATE_EDIT_INTENT, intent_text, ilen, d);
	if (!err)
		pipeline_kill_point("intent");
	if (!err)
		err = intent_apply(e->name, &in, d);
out:
	free(edits);
	free(intent_text);
	return err;
}

void pipeline_edit_free(struct pipeline_edit *e)
{
	rule_edits_free(&e->edits);
}

bool pipeline_edit_unchanged(const char *name, const char *hash)
{
	struct edit_base *b = calloc(1, sizeof(*b));
	struct rule_edits e = {};
	char path[STATE_PATH_MAX];
	bool same = false;
	__u32 ctl;

	if (b && !read_base(name, b) && b->hash[0] && !strcmp(b->hash, hash) &&
	    !ctl_read_pinned(name, &ctl) && (ctl & CTL_GEN_MASK) == b->gen &&
	    list_token(name) == b->token && !read_edits(name, b->token, b->ids, &e) &&
	    !state_path(path, sizeof(path), name, STATE_EDIT_INTENT) && access(path, F_OK))
		same = !e.nr_added && !e.nr_revoked;
	rule_edits_free(&e);
	free(b);
	return same;
}

int pipeline_edit_recover(const char *name, struct diag *d)
{
	char path[STATE_PATH_MAX], *text;
	struct intent in;
	size_t len;
	__u32 ctl;
	int err = state_path(path, sizeof(path), name, STATE_EDIT_INTENT);

	text = err ? NULL : state_read_file(path, &len);
	if (!text)
		return errno == ENOENT ? 0 : -errno;
	err = intent_parse(text, len, &in);
	/* of a generation no longer in force (cannot be: a switch recovers first): dropped */
	if (!err && (ctl_read_pinned(name, &ctl) || (ctl & CTL_GEN_MASK) != in.gen ||
		     list_token(name) != in.token)) {
		in.nr_entries = 0;
		diag_warn(d, NULL, 0,
			  "an interrupted live edit of '%s' was for a generation no longer in "
			  "force: its drop-in is written, 'ironclaw-pipe reload' puts it in force",
			  name);
	}
	if (!err)
		err = intent_apply(name, &in, d);
	else
		diag_error(d, path, 0, "an interrupted live edit's record cannot be read: %s",
			   strerror(-err));
	free(text);
	return err;
}
