/* counts.c: the installed rule list, and rule counters that outlive a switch of generation. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counts.h"
#include "map_walk.h"
#include "pipeline_fill.h"
#include "pins.h"
#include "rule_edits.h"
#include "rules4.h"
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

/* the field at *p up to the next tab (made a NUL), *p past it; NULL when none is left */
static char *next_field(char **p)
{
	char *f = *p, *tab;

	if (!f)
		return NULL;
	tab = strchr(f, '\t');
	if (tab)
		*tab = '\0';
	*p = tab ? tab + 1 : NULL;
	return *f ? f : NULL;
}

int rule_list_parse(char *line, struct rule_list_entry *e)
{
	/* by hand, not strtok: a switch over 1M rules reads 1M lines */
	char *p = line, *id = next_field(&p), *stage = next_field(&p), *file = next_field(&p);
	char *lno = next_field(&p), *pk = next_field(&p), *by = next_field(&p), *text = p;

	if (text)
		text[strcspn(text, "\n")] = '\0';
	if (!id || !stage || !file || !lno || !pk || !by || !text || !*text)
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

struct sum_ctx {
	struct rule_counters *c;
	__u32 key_size, value_size;
	int ncpu; /* rule_counts: values per key */
};

/* an entry of a rule map: its counters, when it is of the generation counted */
static int sum_entry(void *ctx, const void *key, const void *value)
{
	struct sum_ctx *s = ctx;
	struct pkt_count n;
	__u32 gen, rule;

	if (rule_entry_counted(key, s->key_size, value, s->value_size, &gen, &rule, &n) &&
	    (int)gen == s->c->gen && (n.packets || n.bytes))
		return rule_counters_add(s->c, rule, &n);
	return 0;
}

/* an exact stage's table rules4 (rules4.h): its live slots of the generation counted */
static int rule_counters_sum_table(struct rule_counters *c, int fd)
{
	struct rules4 t;
	int err = rules4_map(fd, false, &t);

	for (size_t i = 0; !err && i < rules4_nr_slots(&t); i++) {
		struct policy_key4 k;
		struct policy_value v;

		if (rules4_live(&t, i, &k, &v) && k.gen == c->gen && (v.packets || v.bytes))
			err = rule_counters_add(
				c, v.rule_id,
				&(struct pkt_count){ .packets = v.packets, .bytes = v.bytes });
	}
	rules4_unmap(&t);
	return err;
}

/* a rule's per-CPU counter in rule_counts, summed over the CPUs */
static int sum_counts(void *ctx, const void *key, const void *value)
{
	struct sum_ctx *s = ctx;
	const struct pkt_count *v = value;
	struct pkt_count n = {};

	for (int i = 0; i < s->ncpu; i++) {
		n.packets += v[i].packets;
		n.bytes += v[i].bytes;
	}
	return n.packets || n.bytes ? rule_counters_add(s->c, *(const __u32 *)key, &n) : 0;
}

/*
 * One part of the read: rule_counts, a rule map, or half of a big one (map_walk.h), summed
 * into counters of its own. At 1M rules a rule map's walk takes 0.3-0.5 s, all of it in the
 * kernel (a lock a bucket): after a switch, the old generation's are read in two halves
 * on two threads, rule_counts beside.
 */
struct sum_part {
	struct rule_counters acc; /* its in_entries */
	struct map_walk_half half;
	bool counts; /* rule_counts, else a rule map */
	bool second; /* the second half of a split map */
};

struct sum_job {
	struct sum_part *parts;
	size_t nr, next; /* next: the part to take (atomic) */
};

static void sum_part_run(struct sum_part *p)
{
	struct sum_ctx s = { .c = &p->acc };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (p->counts) {
		s.ncpu = libbpf_num_possible_cpus();
		if (s.ncpu > 0)
			map_walk_half(&p->half, sum_counts, &s);
		return;
	}
	if (bpf_obj_get_info_by_fd(p->half.fd, &info, &len))
		return;
	if (info.type == BPF_MAP_TYPE_ARRAY && info.value_size == sizeof(struct rule_slot4)) {
		(void)rule_counters_sum_table(&p->acc, p->half.fd);
		return;
	}
	if (info.key_size > 64 || info.value_size != sizeof(struct policy_value))
		return;
	s.key_size = info.key_size;
	s.value_size = info.value_size;
	map_walk_half(&p->half, sum_entry, &s);
}

static void *sum_worker(void *arg)
{
	struct sum_job *j = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->nr)
		sum_part_run(&j->parts[i]);
	return NULL;
}

/* every counter of c's maps, read once: what cannot be read counts zero */
static void rule_counters_sum(struct rule_counters *c)
{
	struct sum_job j = { .parts = calloc(2 * c->nr_maps + 1, sizeof(*j.parts)) };
	bool split = false;
	pthread_t thread;
	bool threaded;

	if (!j.parts)
		return;
	for (size_t i = 0; c->gen >= 0 && i < c->nr_maps; i++) {
		struct sum_part *p = &j.parts[j.nr];
		struct map_walk_half half[2];

		if (!map_walk_split(c->map_fds[i], half)) {
			p[1].half = half[1];
			p[1].second = split = true;
			j.nr++;
		}
		p[0].half = half[0];
		j.nr++;
	}
	if (c->counts_fd >= 0) {
		j.parts[j.nr].counts = true;
		j.parts[j.nr++].half = (struct map_walk_half){ .fd = c->counts_fd };
	}
	for (size_t i = 0; i < j.nr; i++)
		j.parts[i].acc.gen = c->gen;
	/* a second thread for a big map's halves; else this one reads all */
	threaded = split && !pthread_create(&thread, NULL, sum_worker, &j);
	sum_worker(&j);
	if (threaded)
		pthread_join(thread, NULL);
	for (size_t i = 0; i < j.nr; i++) {
		struct sum_part *p = &j.parts[i];

		/* a first half that never met its stop key read the second's entries too */
		if (!p->second || j.parts[i - 1].half.saw_stop)
			for (size_t r = 0; r < p->acc.nr_in_entries; r++)
				if (p->acc.in_entries[r].packets || p->acc.in_entries[r].bytes)
					rule_counters_add(c, r, &p->acc.in_entries[r]);
		free(p->acc.in_entries);
	}
	free(j.parts);
}

void rule_counters_get(struct rule_counters *c, __u32 id, struct pkt_count *sum)
{
	if (!c->summed) {
		c->summed = true;
		rule_counters_sum(c);
	}
	memset(sum, 0, sizeof(*sum));
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
static const char *base_name(const char *file)
{
	const char *b = strrchr(file, '/');

	return b ? b + 1 : file;
}

/* n bytes at p into h, a word at a time */
static __u64 hash_bytes(__u64 h, const char *p, size_t n)
{
	const __u64 k = 0x9e3779b97f4a7c15ull;
	__u64 w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w ^ ((__u64)n << 56)) * k;
	return h ^ (h >> 32);
}

/* a rule's hash: its file's name and its text */
static __u64 rule_hash(const char *base, const char *text)
{
	return hash_bytes(hash_bytes(0, base, strlen(base)), text, strlen(text));
}

/* a slot: the rule's index + 1 (0: empty) low, the high half of its hash high */
#define SLOT_INDEX(v) ((v)&0xffffffffull)
#define SLOT_HASH(h) ((h) & ~0xffffffffull)

/* the slot of the old rule of base and text, or the empty slot where it would go */
static size_t snapshot_slot(const struct counts_snapshot *s, const char *base, const char *text)
{
	__u64 h = rule_hash(base, text);
	size_t mask = s->nr_slots - 1, i = h & mask;

	for (; s->slots[i]; i = (i + 1) & mask) {
		const struct rule_list_entry *o = &s->rules[SLOT_INDEX(s->slots[i]) - 1];

		if (SLOT_HASH(s->slots[i]) == SLOT_HASH(h) && !strcmp(base_name(o->file), base) &&
		    !strcmp(o->text, text))
			break;
	}
	return i;
}

/* the old list read and split */
static int snapshot_read_list(const char *name, struct counts_snapshot *s)
{
	char *line, *next;
	size_t len = 0, cap = 0;

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
	return 0;
}

/* the list's head says that none of its rules carries anything (live edits add none that do) */
static bool list_carries_nothing(const char *name)
{
	char path[STATE_PATH_MAX], head[128] = "";
	unsigned long long token;
	int n = 0, fd;

	if (state_path(path, sizeof(path), name, STATE_RULE_LIST))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	head[n > 0 ? n : 0] = '\0';
	return sscanf(head, "#base %llu%n", &token, &n) == 1 &&
	       !strncmp(head + n, COUNTS_NOTHING_CARRIED "\n", strlen(COUNTS_NOTHING_CARRIED) + 1);
}

/*
 * The hash table of the old rules whose total is not zero: with their counters (read now,
 * added to what they carried: once) or without (what they carried alone). At 1M rules
 * that mostly never matched, hashing them all took 0.3 s, and as long again to look every
 * new rule up: only a rule that counted something is worth finding.
 */
static int snapshot_index(struct counts_snapshot *s, bool counters)
{
	size_t nr = 0;

	if (s->indexed)
		return 0; /* the counters are in what each carries already */
	/* a list that carries nothing: read only when some counter of its generation moved */
	if (s->unread && counters && counts_snapshot_counted(s)) {
		int err = snapshot_read_list(s->unread, s);

		free(s->unread);
		s->unread = NULL;
		if (err)
			return err;
	}
	s->indexed = counters;
	free(s->slots);
	s->slots = NULL;
	s->nr_slots = 0;
	if (s->nr >= 0xffffffffull)
		return -E2BIG;
	for (size_t i = 0; i < s->nr; i++) {
		struct rule_list_entry *o = &s->rules[i];
		struct pkt_count c = {};

		if (counters && s->counters)
			rule_counters_get(s->counters, o->id, &c);
		o->carried.packets += c.packets;
		o->carried.bytes += c.bytes;
		nr += o->carried.packets || o->carried.bytes;
	}
	if (!nr)
		return 0; /* nothing to carry: no table, every rule starts at zero */
	/* at most half full: one probe or two per rule of the new profile */
	for (s->nr_slots = 64; s->nr_slots < 2 * nr;)
		s->nr_slots *= 2;
	s->slots = calloc(s->nr_slots, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr; i++) {
		const char *base = base_name(s->rules[i].file), *text = s->rules[i].text;
		size_t at;

		if (!s->rules[i].carried.packets && !s->rules[i].carried.bytes)
			continue;
		at = snapshot_slot(s, base, text);
		/* the same rule twice: the first line of those that counted counts */
		if (!s->slots[at])
			s->slots[at] = SLOT_HASH(rule_hash(base, text)) | (i + 1);
	}
	return 0;
}

int counts_snapshot_index(struct counts_snapshot *s)
{
	return snapshot_index(s, true);
}

int counts_snapshot_index_carried(struct counts_snapshot *s)
{
	return snapshot_index(s, false);
}

bool counts_snapshot_counted(struct counts_snapshot *s)
{
	struct pkt_count c;

	if (!s->counters)
		return false;
	rule_counters_get(s->counters, 0, &c); /* reads them all, the first time */
	for (size_t i = 0; i < s->counters->nr_in_entries; i++)
		if (s->counters->in_entries[i].packets || s->counters->in_entries[i].bytes)
			return true;
	return false;
}

int counts_snapshot_take(const char *name, struct counts_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->counters = malloc(sizeof(*s->counters));
	if (s->counters)
		rule_counters_open(name, s->counters);
	/* 1M rules that never counted: 45 MB of list not read, nor split */
	if (list_carries_nothing(name)) {
		s->unread = strdup(name);
		if (s->unread)
			return 0;
	}
	return snapshot_read_list(name, s);
}

void counts_carried_over(const struct counts_snapshot *s, const char *file, const char *text,
			 struct pkt_count *sum)
{
	const struct rule_list_entry *o;
	size_t at;

	memset(sum, 0, sizeof(*sum));
	if (!s || !s->slots || !s->nr_slots)
		return;
	at = snapshot_slot(s, base_name(file), text);
	if (!s->slots[at])
		return;
	o = &s->rules[SLOT_INDEX(s->slots[at]) - 1];
	*sum = o->carried; /* its counters added by counts_snapshot_index */
}

bool counts_snapshot_carries(const struct counts_snapshot *s)
{
	return s && s->slots && s->nr_slots;
}

void counts_snapshot_free(struct counts_snapshot *s)
{
	free(s->unread);
	free(s->slots);
	free(s->rules);
	free(s->list);
	if (s->counters)
		rule_counters_close(s->counters);
	free(s->counters);
	memset(s, 0, sizeof(*s));
}

struct counts_snapshot_job {
	pthread_t thread;
	bool joined;
	char name[INSTANCE_NAME_MAX + 1];
	struct counts_snapshot s;
};

static void *snapshot_thread(void *arg)
{
	struct counts_snapshot_job *j = arg;

	counts_snapshot_take(j->name, &j->s); /* what it could not read counts zero */
	return NULL;
}

struct counts_snapshot_job *counts_snapshot_start(const char *name)
{
	struct counts_snapshot_job *j = calloc(1, sizeof(*j));

	if (!j || (size_t)snprintf(j->name, sizeof(j->name), "%s", name) >= sizeof(j->name) ||
	    pthread_create(&j->thread, NULL, snapshot_thread, j)) {
		free(j);
		return NULL;
	}
	return j;
}

struct counts_snapshot *counts_snapshot_wait(struct counts_snapshot_job *j)
{
	if (!j->joined)
		pthread_join(j->thread, NULL);
	j->joined = true;
	return &j->s;
}

void counts_snapshot_job_free(struct counts_snapshot_job *j)
{
	if (!j)
		return;
	counts_snapshot_free(counts_snapshot_wait(j));
	free(j);
}
