/* counts.c: the installed rule list, and rule counters that outlive a switch of generation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counts.h"
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
	s->counts_fd = pins_get(name, "rule_counts");
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
			counts_rule_sum(s->counts_fd, o->id, sum);
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
	if (s->counts_fd >= 0)
		close(s->counts_fd);
	memset(s, 0, sizeof(*s));
	s->counts_fd = -1;
}
