/* counts.c: the installed rule list, and rule counters that outlive a switch of generation. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counts.h"
#include "pipeline_fill.h"
#include "pins.h"
#include "rule_edits.h"
#include "state.h"

char *rule_list_read(const char *name, size_t *len)
{
	char path[STATE_PATH_MAX], *list, *edits, *merged;
	size_t elen;

	if (state_path(path, sizeof(path), name, STATE_RULE_LIST))
		return NULL;
	list = state_read_file(path, len);
	if (!list || state_path(path, sizeof(path), name, STATE_RULE_EDITS))
		return list;
	edits = state_read_file(path, &elen);
	if (!edits)
		return list;
	merged = rule_list_merge(list, *len, edits, len);
	free(list);
	free(edits);
	if (!merged)
		errno = ENOMEM;
	return merged;
}

/* a stream over a string it frees when closed */
struct text_stream {
	char *text;
	size_t len, off;
};

static ssize_t text_stream_read(void *c, char *buf, size_t size)
{
	struct text_stream *s = c;
	size_t n = s->len - s->off < size ? s->len - s->off : size;

	memcpy(buf, s->text + s->off, n);
	s->off += n;
	return n;
}

static int text_stream_close(void *c)
{
	struct text_stream *s = c;

	free(s->text);
	free(s);
	return 0;
}

FILE *rule_list_open(const char *name)
{
	cookie_io_functions_t io = { .read = text_stream_read, .close = text_stream_close };
	struct text_stream *s = calloc(1, sizeof(*s));
	FILE *f = NULL;

	if (s)
		s->text = rule_list_read(name, &s->len);
	if (s && s->text)
		f = fopencookie(s, "r", io);
	if (!f && s) {
		free(s->text);
		free(s);
	}
	return f;
}

int rule_list_parse(char *line, struct rule_list_entry *e)
{
	char *id = strtok(line, "\t"), *stage = strtok(NULL, "\t"), *file = strtok(NULL, "\t");
	char *lno = strtok(NULL, "\t"), *pk = strtok(NULL, "\t"), *by = strtok(NULL, "\t");
	char *text = strtok(NULL, "\n");

	if (!id || !stage || !file || !lno || !pk || !by || !text)
		return -EINVAL;
	e->id = strtoul(id, NULL, 10);
	e->stage = stage;
	e->file = file;
	e->line = atoi(lno);
	e->carried.packets = strtoull(pk, NULL, 10);
	e->carried.bytes = strtoull(by, NULL, 10);
	e->text = text;
	return 0;
}

/* v in decimal at p, and a tab: the end */
static char *put_number(char *p, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	*p++ = '\t';
	return p;
}

static char *put_text(char *p, const char *s, size_t n, char end)
{
	memcpy(p, s, n);
	p[n] = end;
	return p + n + 1;
}

/* written without printf: an install of 1M rules writes 1M lines */
void rule_list_write(FILE *f, unsigned long id, const char *stage, const char *file, int line,
		     const struct pkt_count *carried, const char *text)
{
	size_t sl = strlen(stage), fl = strlen(file), tl = strlen(text);
	char small[512],
		*buf = sl + fl + tl + 100 <= sizeof(small) ? small : malloc(sl + fl + tl + 100);
	char *p = buf;

	if (!buf)
		return;
	p = put_number(p, id);
	p = put_text(p, stage, sl, '\t');
	p = put_text(p, file, fl, '\t');
	p = put_number(p, line < 0 ? 0 : line);
	p = put_number(p, carried->packets);
	p = put_number(p, carried->bytes);
	p = put_text(p, text, tl, '\n');
	fwrite_unlocked(buf, 1, p - buf, f);
	if (buf != small)
		free(buf);
}

void counts_rule_sum(int fd, __u32 id, struct pkt_count *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pkt_count *vals;

	memset(sum, 0, sizeof(*sum));
	if (fd < 0 || ncpu <= 0)
		return;
	vals = calloc(ncpu, sizeof(*vals));
	if (vals && !bpf_map_lookup_elem(fd, &id, vals)) {
		for (int c = 0; c < ncpu; c++) {
			sum->packets += vals[c].packets;
			sum->bytes += vals[c].bytes;
		}
	}
	free(vals);
}

void rule_counters_open(const char *name, struct rule_counters *c)
{
	char dir[STATE_PATH_MAX];
	int fd = pins_get(name, "ctl");
	struct dirent *de;
	__u32 zero = 0, ctl;
	DIR *dd;

	memset(c, 0, sizeof(*c));
	c->gen = -1;
	c->counts_fd = pins_get(name, "rule_counts");
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &ctl))
		c->gen = ctl & CTL_GEN_MASK;
	if (fd >= 0)
		close(fd);
	if (state_pin_path(dir, sizeof(dir), name, NULL))
		return;
	dd = opendir(dir);
	while (dd && (de = readdir(dd)) && c->nr_maps < RULE_COUNTER_MAPS) {
		if (strncmp(de->d_name, PIN_RULES_PREFIX, strlen(PIN_RULES_PREFIX)) &&
		    strncmp(de->d_name, PIN_RULES4_PREFIX, strlen(PIN_RULES4_PREFIX)) &&
		    strcmp(de->d_name, "wide_rules"))
			continue;
		fd = pins_get(name, de->d_name);
		if (fd >= 0)
			c->map_fds[c->nr_maps++] = fd;
	}
	if (dd)
		closedir(dd);
}

/* adds an entry's counters to c->in_entries[rule], grown as rule numbers come */
static int rule_counters_add(struct rule_counters *c, __u32 rule, const struct pkt_count *n)
{
	if (rule >= c->nr_in_entries) {
		size_t nr = c->nr_in_entries ? c->nr_in_entries : 1024;
		struct pkt_count *g;

		while (nr <= rule)
			nr *= 2;
		g = realloc(c->in_entries, nr * sizeof(*g));
		if (!g)
			return -ENOMEM;
		memset(g + c->nr_in_entries, 0, (nr - c->nr_in_entries) * sizeof(*g));
		c->in_entries = g;
		c->nr_in_entries = nr;
	}
	c->in_entries[rule].packets += n->packets;
	c->in_entries[rule].bytes += n->bytes;
	return 0;
}

/* entries read from a map in one system call (bpf_map_lookup_batch) */
#define COUNTERS_BATCH 4096

/* every entry of the map in fd, in batches where the map has them, else one by one */
static void rule_counters_sum_map(struct rule_counters *c, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), count, gen, rule, token = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = NULL, *vals = NULL;
	struct pkt_count n;
	bool first = true;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.key_size > 64 ||
	    info.value_size != sizeof(struct policy_value))
		return;
	keys = malloc((size_t)COUNTERS_BATCH * info.key_size);
	vals = malloc((size_t)COUNTERS_BATCH * info.value_size);
	if (!keys || !vals)
		goto out;
	do {
		count = COUNTERS_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					   &opts);
		if (err && errno != ENOENT)
			break;
		first = false;
		for (__u32 i = 0; i < count; i++)
			if (rule_entry_counted(keys + (size_t)i * info.key_size, info.key_size,
					       vals + (size_t)i * info.value_size, info.value_size,
					       &gen, &rule, &n) &&
			    (int)gen == c->gen && (n.packets || n.bytes))
				rule_counters_add(c, rule, &n);
	} while (!err);
	if (!err || errno == ENOENT || !first)
		goto out;
	/* no batches for this kind of map (an LPM trie): one entry at a time */
	for (err = bpf_map_get_next_key(fd, NULL, keys); !err;
	     err = bpf_map_get_next_key(fd, keys, keys)) {
		if (!bpf_map_lookup_elem(fd, keys, vals) &&
		    rule_entry_counted(keys, info.key_size, vals, info.value_size, &gen, &rule,
				       &n) &&
		    (int)gen == c->gen && (n.packets || n.bytes))
			rule_counters_add(c, rule, &n);
	}
out:
	free(keys);
	free(vals);
}

void rule_counters_get(struct rule_counters *c, __u32 id, struct pkt_count *sum)
{
	if (!c->summed) {
		c->summed = true;
		for (size_t i = 0; c->gen >= 0 && i < c->nr_maps; i++)
			rule_counters_sum_map(c, c->map_fds[i]);
	}
	counts_rule_sum(c->counts_fd, id, sum);
	if (id < c->nr_in_entries) {
		sum->packets += c->in_entries[id].packets;
		sum->bytes += c->in_entries[id].bytes;
	}
}

void rule_counters_close(struct rule_counters *c)
{
	if (c->counts_fd >= 0)
		close(c->counts_fd);
	for (size_t i = 0; i < c->nr_maps; i++)
		close(c->map_fds[i]);
	free(c->in_entries);
	memset(c, 0, sizeof(*c));
	c->counts_fd = -1;
	c->gen = -1;
}

void counts_rule_total(const char *name, __u32 id, struct pkt_count *sum)
{
	struct rule_counters c;

	rule_counters_open(name, &c);
	rule_counters_get(&c, id, sum);
	rule_counters_close(&c);
}

/*
 * The same rule in two profiles: the same text in a file of the same name (a
 * reload names the profile's files by absolute path, an install as given).
 */
static int rule_cmp(const char *file_a, const char *text_a, const char *file_b, const char *text_b)
{
	const char *a = strrchr(file_a, '/'), *b = strrchr(file_b, '/');
	int c = strcmp(a ? a + 1 : file_a, b ? b + 1 : file_b);

	return c ? c : strcmp(text_a, text_b);
}

static int entry_cmp(const void *x, const void *y)
{
	const struct rule_list_entry *a = x, *b = y;

	return rule_cmp(a->file, a->text, b->file, b->text);
}

int counts_snapshot_take(const char *name, struct counts_snapshot *s)
{
	char *line, *next;
	size_t len = 0, cap = 0;

	memset(s, 0, sizeof(*s));
	s->counters = malloc(sizeof(*s->counters));
	if (s->counters)
		rule_counters_open(name, s->counters);
	s->list = rule_list_read(name, &len);
	if (!s->list)
		return errno == ENOENT ? 0 : -errno;
	for (line = s->list; line && *line; line = next) {
		struct rule_list_entry e, *g;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (rule_list_parse(line, &e))
			continue;
		if (s->nr == cap) {
			cap = cap ? 2 * cap : 64;
			g = realloc(s->rules, cap * sizeof(*g));
			if (!g)
				return -ENOMEM;
			s->rules = g;
		}
		s->rules[s->nr++] = e;
	}
	/* sorted, for one binary search per rule of the new profile */
	if (s->nr)
		qsort(s->rules, s->nr, sizeof(*s->rules), entry_cmp);
	return 0;
}

void counts_carried_over(const struct counts_snapshot *s, const char *file, const char *text,
			 struct pkt_count *sum)
{
	size_t lo = 0, hi = s ? s->nr : 0;

	memset(sum, 0, sizeof(*sum));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rule_list_entry *o = &s->rules[mid];
		int c = rule_cmp(file, text, o->file, o->text);

		if (c < 0) {
			hi = mid;
		} else if (c > 0) {
			lo = mid + 1;
		} else {
			if (s->counters)
				rule_counters_get(s->counters, o->id, sum);
			sum->packets += o->carried.packets;
			sum->bytes += o->carried.bytes;
			return;
		}
	}
}

void counts_snapshot_free(struct counts_snapshot *s)
{
	free(s->rules);
	free(s->list);
	if (s->counters)
		rule_counters_close(s->counters);
	free(s->counters);
	memset(s, 0, sizeof(*s));
}
