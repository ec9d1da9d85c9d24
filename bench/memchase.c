// SPDX-License-Identifier: GPL-2.0
/*
 * memchase.c: the parts of the 1M-rule lookup's cost, each measured from a BPF
 * program in one run (memchase.bpf.c; bench/README.md, issue 15).
 *
 * memchase [--runs K] [--repeat R] [--n N] ITEM...
 *   K rounds through every item (their order alternating), R repetitions a
 *   run; prints INDEX:item,round,ns.
 *
 *   A map item: a dependent chain of steps over a map, hot (one entry that
 *   names itself) and random (one cycle through every entry), which first
 *   alternating (two lines: ITEM/hot, ITEM/random):
 *     arr:VALUE:ENTRIES                an array map (vmalloc'd)
 *     hash:VALUE:ENTRIES:MAX[:pre][:count][:dD=K]
 *                                      a hash map of 8-byte keys, ENTRIES of MAX
 *                                      (MAX sets the bucket array), preallocated
 *                                      or not, the counters added or not; dD=K:
 *                                      the hash seed zero, the cycle through K keys
 *                                      at depth D of their buckets' chains
 *     user:BYTES                       icbench chase's pointer chase in user memory
 *     oa:ENTRIES:SLOTS                 an open-addressed table (oa_step): 32-byte
 *                                      slots in an array map, linear probing
 *
 *   A row: PROG behind the dependent wrapper (dep_tc, dep_xdp): each
 *   repetition the wrapper takes the next entry of a random cycle over LINES
 *   64-byte lines and writes its destination into the frame:
 *     PROG:LINES:hot|mix[:rand]        PROG is pin:PATH or empty_tc / empty_xdp;
 *                                      hot: rule N/2's destination in every entry,
 *                                      mix: a random rule's of N; rand: the entry
 *                                      picked at random instead (rnd_tc, rnd_xdp:
 *                                      icbench's mix wrapper; LINES a power of two)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "frame.h"
#include "obj_path.h"
#include "ruleset.h"

#define CONFIGS_MAX 40

struct step {
	__u64 next, packets, bytes;
};

struct dep_entry {
	__u32 next;
	__be32 daddr;
	__be16 dport;
	__u8 pad[54];
};

struct config {
	const char *spec;
	int kind; /* 0 arr, 1 hash, 2 user */
	unsigned long value, entries, max;
	int pre, count, xdp;
	struct bpf_object *obj;
	int prog_fd, bss_fd;
	__u64 pos, hot;
	void **ubuf, **up;
	/* dep rows */
	const char *prog;
	int target_fd;
	unsigned long lines;
	int mix, rand;
	int depth; /* hash: only keys at this depth of their chains (-1: all) */
	unsigned long subset;
};

static struct config items[CONFIGS_MAX];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int obj_path(char *out, size_t len)
{
	return obj_next_to_self(out, len, "memchase.bpf.o");
}

/* a random cycle through 0..n-1: next[i] */
static unsigned long *cycle(unsigned long n)
{
	return random_cycle(n, 0x5eed);
}

/* sets the read-only variable NAME (4 bytes) of an object not loaded yet */
static int set_rodata(struct bpf_object *obj, const char *name, __u32 v)
{
	struct bpf_map *ro = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const void *init;
	__u8 buf[256];
	size_t sz;
	int id;

	init = ro ? bpf_map__initial_value(ro, &sz) : NULL;
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (!init || id < 0 || sz > sizeof(buf))
		return -ENOENT;
	memcpy(buf, init, sz);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name) || vs->size != 4)
			continue;
		memcpy(buf + vs->offset, &v, 4);
		return bpf_map__set_initial_value(ro, buf, sz);
	}
	return -ENOENT;
}

static int set_cur(struct config *c, __u64 v)
{
	__u32 zero = 0;

	return bpf_map_update_elem(c->bss_fd, &zero, &v, BPF_ANY) ? -errno : 0;
}

static int get_cur(struct config *c, __u64 *v)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(c->bss_fd, &zero, v) ? -errno : 0;
}

static int open_obj(struct config *c, const char *keep)
{
	char path[PATH_MAX];
	struct bpf_program *p;
	int err = obj_path(path, sizeof(path));

	if (err)
		return err;
	c->obj = bpf_object__open_file(path, NULL);
	if (!c->obj)
		return -errno;
	bpf_object__for_each_program(p, c->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), keep));
	return 0;
}

static int load_obj(struct config *c, const char *keep)
{
	struct bpf_map *bss;
	int err = bpf_object__load(c->obj);

	if (err) {
		fprintf(stderr, "memchase: cannot load %s for %s: %s\n", keep, c->spec,
			strerror(-err));
		return err;
	}
	c->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(c->obj, keep));
	bss = bpf_object__find_map_by_name(c->obj, ".bss");
	c->bss_fd = bss ? bpf_map__fd(bss) : -1;
	return c->prog_fd < 0 || c->bss_fd < 0 ? -ENOENT : 0;
}

struct oa_slot {
	__u64 key;
	__u32 rule_id, flags;
	__u64 packets, bytes;
};

#define OA_MUL 0x9e3779b97f4a7c15ull

/* an open-addressed table: keys 1..entries+1 (the last the hot one, naming itself) */
static int setup_oa(struct config *c)
{
	unsigned long *next, slots = c->max;
	struct oa_slot *tab = calloc(slots, sizeof(*tab));
	int bits = __builtin_ctzl(slots), err, fd;
	struct bpf_map *m;

	if (!tab || (slots & (slots - 1)) || slots <= c->entries + 1) {
		free(tab);
		return -EINVAL;
	}
	err = open_obj(c, "oa_step");
	if (!err)
		err = set_rodata(c->obj, "oa_shift", 64 - bits);
	if (!err)
		err = set_rodata(c->obj, "oa_mask", slots - 1);
	m = bpf_object__find_map_by_name(c->obj, "oa");
	if (!err)
		err = bpf_map__set_max_entries(m, slots);
	if (!err)
		err = load_obj(c, "oa_step");
	next = err ? NULL : cycle(c->entries);
	if (!next) {
		free(tab);
		return err ? err : -ENOMEM;
	}
	for (unsigned long i = 0; i <= c->entries; i++) {
		__u64 k = i + 1;
		__u32 h = (k * OA_MUL) >> (64 - bits);

		while (tab[h].key)
			h = (h + 1) & (slots - 1);
		tab[h].key = k;
		tab[h].rule_id = i < c->entries ? next[i] : i;
	}
	free(next);
	fd = bpf_map__fd(m);
	for (__u32 j = 0; j < slots && !err; j++)
		if (tab[j].key && bpf_map_update_elem(fd, &j, &tab[j], BPF_ANY))
			err = -errno;
	free(tab);
	c->hot = c->entries + 1;
	c->pos = 1;
	return err;
}

/* the kernel's jhash2 of two words (include/linux/jhash.h), as htab_map_hash calls it */
static __u32 rol32(__u32 w, int s)
{
	return (w << s) | (w >> (32 - s));
}

static __u32 jhash2_2(const __u32 *k, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (2 << 2) + initval;
	b += k[1];
	a += k[0];
	c ^= b;
	c -= rol32(b, 14);
	a ^= c;
	a -= rol32(c, 11);
	b ^= a;
	b -= rol32(a, 25);
	c ^= b;
	c -= rol32(b, 16);
	a ^= c;
	a -= rol32(c, 4);
	b ^= a;
	b -= rol32(a, 14);
	c ^= b;
	c -= rol32(b, 24);
	return c;
}

/*
 * The keys at depth d of their bucket's chain (BPF_F_ZERO_SEED: the hash is
 * known; the kernel adds at the head, so a later key is in front), a random
 * `want` of them in *keys. Prints the depths' shares.
 */
static long keys_at_depth(struct config *c, int d, unsigned long want, __u64 *keys)
{
	unsigned long nb = 1, cnt[4] = {}, got = 0;
	__u32 *bucket, *seen;
	unsigned char *depth;
	uint32_t seed = 0xd0d0;

	while (nb < c->max)
		nb <<= 1;
	bucket = malloc(c->entries * sizeof(*bucket));
	seen = calloc(nb, sizeof(*seen));
	depth = malloc(c->entries);
	if (!bucket || !seen || !depth) {
		free(bucket);
		free(seen);
		free(depth);
		return -ENOMEM;
	}
	for (unsigned long i = 0; i < c->entries; i++) {
		__u64 k = i;
		__u32 w[2];

		memcpy(w, &k, sizeof(w));
		bucket[i] = jhash2_2(w, 0) & (nb - 1);
	}
	for (unsigned long i = c->entries; i-- > 0;) {
		depth[i] = seen[bucket[i]] > 255 ? 255 : seen[bucket[i]];
		seen[bucket[i]]++;
		cnt[depth[i] < 3 ? depth[i] : 3]++;
	}
	fprintf(stderr, "memchase: %s: depth 0 %.4f, 1 %.4f, 2 %.4f, 3+ %.4f\n", c->spec,
		(double)cnt[0] / c->entries, (double)cnt[1] / c->entries,
		(double)cnt[2] / c->entries, (double)cnt[3] / c->entries);
	/* a random subset: walk from a random start with a stride prime to the entries */
	for (unsigned long j = 0, i = bench_rand(&seed) % c->entries; j < c->entries && got < want;
	     j++, i = (i + 7919) % c->entries)
		if (depth[i] == d)
			keys[got++] = i;
	free(bucket);
	free(seen);
	free(depth);
	return got;
}

static int setup_map(struct config *c)
{
	const char *prog = c->kind == 0 ? "arr_step" : c->count ? "hash_count" : "hash_step";
	struct bpf_map *m;
	unsigned long *next;
	int err, fd;

	err = open_obj(c, prog);
	if (err)
		return err;
	m = bpf_object__find_map_by_name(c->obj, c->kind == 0 ? "arr" : "hash");
	bpf_map__set_value_size(m, c->value);
	bpf_map__set_max_entries(m, c->kind == 0 ? c->entries + 1 : c->max);
	if (c->kind == 1)
		bpf_map__set_map_flags(m, (c->pre ? 0 : BPF_F_NO_PREALLOC) |
						  (c->depth >= 0 ? BPF_F_ZERO_SEED : 0));
	err = load_obj(c, prog);
	if (err)
		return err;
	fd = bpf_map__fd(m);
	/* keys 0..entries-1 in order (the loader fills in rule order), then the hot one,
	 * each once (an update of a key puts it first in its chain again): in the value the
	 * next key of a cycle through all, or through the keys at one depth of their
	 * chains (a subset); a key out of the cycle names itself */
	{
		unsigned long nk = c->depth >= 0 ? c->subset : c->entries;
		__u64 *keys = malloc(nk * sizeof(*keys)), *to = malloc((c->entries + 1) * 8);
		long got = nk;

		if (!keys || !to) {
			free(keys);
			free(to);
			return -ENOMEM;
		}
		if (c->depth >= 0)
			got = keys_at_depth(c, c->depth, nk, keys);
		else
			for (unsigned long i = 0; i < nk; i++)
				keys[i] = i;
		next = got > 1 ? cycle(got) : NULL;
		for (unsigned long i = 0; i <= c->entries; i++)
			to[i] = i;
		for (long i = 0; next && i < got; i++)
			to[keys[i]] = keys[next[i]];
		for (unsigned long i = 0; next && i <= c->entries && !err; i++) {
			__u8 val[256] = {};
			__u64 k = i;
			__u32 k32 = i;

			memcpy(val, &to[i], sizeof(to[i]));
			if (bpf_map_update_elem(fd, c->kind == 0 ? (void *)&k32 : (void *)&k, val,
						BPF_ANY))
				err = -errno;
		}
		c->pos = got > 0 ? keys[0] : 0;
		free(keys);
		free(to);
		if (!next)
			return got < 0 ? got : -EINVAL;
		free(next);
	}
	c->hot = c->entries;
	return err;
}

static int setup_user(struct config *c)
{
	unsigned long lines = c->entries / 64, *next = cycle(lines);
	void **buf = aligned_alloc(64, lines * 64);

	if (!next || !buf) {
		free(next);
		free(buf);
		return -ENOMEM;
	}
	for (unsigned long i = 0; i < lines; i++)
		buf[i * 8] = &buf[next[i] * 8];
	free(next);
	c->ubuf = buf;
	c->up = buf;
	for (unsigned long i = 0; i < lines; i++) /* once round: the pages are there */
		c->up = *c->up;
	return 0;
}

static unsigned char frame[BENCH_FRAME_LEN];

static void build_frame(void)
{
	static const unsigned char dmac[6] = { 2, 2, 2, 2, 2, 2 }, smac[6] = { 4, 4, 4, 4, 4, 4 };

	bench_frame(frame, dmac, smac, exact_addr(0), exact_port(0), 0, 0);
}

static int test_run(int fd, unsigned long repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	return 0;
}

/* one run of config c from where it stopped: hot, or the random cycle */
static int run_map(struct config *c, int hot, unsigned long repeat, double *ns)
{
	int err;

	if (c->kind == 2) {
		double t0;

		if (hot) {
			*ns = 0;
			return 0;
		}
		t0 = now_s();
		for (unsigned long i = 0; i < repeat; i++)
			c->up = *c->up;
		*ns = (now_s() - t0) * 1e9 / repeat;
		return 0;
	}
	err = set_cur(c, hot ? c->hot : c->pos);
	if (!err)
		err = test_run(c->prog_fd, repeat, ns);
	if (!err && !hot)
		err = get_cur(c, &c->pos);
	return err;
}

static int parse_map(struct config *c, char *s)
{
	char *kind = strtok(s, ":"), *f;

	if (!kind)
		return -EINVAL;
	if (!strcmp(kind, "user")) {
		c->kind = 2;
		f = strtok(NULL, ":");
		c->entries = f ? strtoul(f, NULL, 10) : 0;
		return c->entries >= 128 ? 0 : -EINVAL;
	}
	if (!strcmp(kind, "oa")) {
		c->kind = 4;
		f = strtok(NULL, ":");
		c->entries = f ? strtoul(f, NULL, 10) : 0;
		f = strtok(NULL, ":");
		c->max = f ? strtoul(f, NULL, 10) : 0;
		return c->entries >= 2 && c->max > c->entries ? 0 : -EINVAL;
	}
	c->depth = -1;
	c->kind = !strcmp(kind, "arr") ? 0 : !strcmp(kind, "hash") ? 1 : -1;
	if (c->kind < 0)
		return -EINVAL;
	f = strtok(NULL, ":");
	c->value = f ? strtoul(f, NULL, 10) : 0;
	f = strtok(NULL, ":");
	c->entries = f ? strtoul(f, NULL, 10) : 0;
	if (c->kind == 1) {
		f = strtok(NULL, ":");
		c->max = f ? strtoul(f, NULL, 10) : 0;
	}
	while ((f = strtok(NULL, ":"))) {
		if (!strcmp(f, "pre"))
			c->pre = 1;
		else if (!strcmp(f, "count"))
			c->count = 1;
		else if (f[0] == 'd' && f[1] >= '0' && f[1] <= '3' && f[2] == '=')
			c->depth = f[1] - '0', c->subset = strtoul(f + 3, NULL, 10);
		else
			return -EINVAL;
	}
	if (c->value < 8 || c->value > 256 || c->entries < 2 ||
	    (c->kind == 1 && c->max <= c->entries) || (c->count && c->value < sizeof(struct step)))
		return -EINVAL;
	return 0;
}

static int setup_dep(struct config *c, unsigned long n)
{
	const char *w = c->rand ? (c->xdp ? "rnd_xdp" : "rnd_tc") : c->xdp ? "dep_xdp" : "dep_tc";
	struct bpf_map *m;
	unsigned long *next;
	__u32 zero = 0;
	uint32_t seed = 0xc0ffee;
	int err, fd, pfd;

	err = open_obj(c, w);
	if (err)
		return err;
	m = bpf_object__find_map_by_name(c->obj, c->rand ? "rnd_tab" : "dep_tab");
	bpf_map__set_max_entries(m, c->lines);
	if (c->rand) {
		if (c->lines & (c->lines - 1))
			return -EINVAL;
		err = set_rodata(c->obj, "dep_rand_mask", c->lines - 1);
		if (err)
			return err;
	}
	err = load_obj(c, w);
	if (err)
		return err;
	fd = bpf_map__fd(m);
	next = cycle(c->lines);
	if (!next)
		return -ENOMEM;
	for (unsigned long i = 0; i < c->lines && !err; i++) {
		struct dep_entry e = { .next = next[i] };
		struct bench_dst b = {};
		uint32_t r = c->mix ? bench_rand(&seed) % n : n / 2;
		__u32 k = i;

		e.daddr = b.daddr = htonl(exact_addr(r));
		e.dport = b.dport = htons(exact_port(r));
		if (bpf_map_update_elem(fd, &k, c->rand ? (void *)&b : (void *)&e, BPF_ANY))
			err = -errno;
	}
	free(next);
	if (err)
		return err;
	if (!strncmp(c->prog, "pin:", 4)) {
		pfd = bpf_obj_get(c->prog + 4);
	} else {
		struct bpf_object *o;
		char path[PATH_MAX];

		err = obj_path(path, sizeof(path));
		o = err ? NULL : bpf_object__open_file(path, NULL);
		if (!o)
			return -ENOENT;
		struct bpf_program *p;

		bpf_object__for_each_program(p, o)
			bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), c->prog));
		if (bpf_object__load(o))
			return -EINVAL;
		pfd = bpf_program__fd(bpf_object__find_program_by_name(o, c->prog));
	}
	if (pfd < 0)
		return -errno;
	c->target_fd = pfd;
	if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(c->obj, "dep_target")),
				&zero, &pfd, BPF_ANY))
		return -errno;
	c->pos = 0;
	return 0;
}

static int parse_dep(struct config *c, char *s)
{
	char *last = strrchr(s, ':'), *mid;

	if (last && !strcmp(last, ":rand")) {
		c->rand = 1;
		*last = '\0';
		last = strrchr(s, ':');
	}
	if (!last)
		return -EINVAL;
	*last = '\0';
	mid = strrchr(s, ':');
	if (!mid)
		return -EINVAL;
	*mid = '\0';
	c->prog = s;
	c->lines = strtoul(mid + 1, NULL, 10);
	c->mix = !strcmp(last + 1, "mix");
	c->xdp = strstr(s, "xdp") != NULL;
	return c->lines >= 1 && (c->mix || !strcmp(last + 1, "hot")) ? 0 : -EINVAL;
}

static int setup(struct config *c, unsigned long n)
{
	double t0 = now_s();
	int err = c->kind == 3 ? setup_dep(c, n) :
		  c->kind == 4 ? setup_oa(c) :
		  c->kind == 2 ? setup_user(c) :
				 setup_map(c);

	if (err)
		fprintf(stderr, "memchase: cannot set up %s: %s\n", c->spec, strerror(-err));
	else
		fprintf(stderr, "memchase: %s ready (%.2f s)\n", c->spec, now_s() - t0);
	return err;
}

/* one run of item c: a map's hot and random chains (which first alternating), or a row */
static int run_item(struct config *c, int k, unsigned long repeat)
{
	double v[2];
	int err = 0;

	if (c->kind == 3) {
		err = set_cur(c, c->pos);
		if (!err)
			err = test_run(c->prog_fd, repeat, &v[0]);
		if (!err)
			err = get_cur(c, &c->pos);
		if (!err)
			printf("%d:%s,%d,%.1f\n", (int)(c - items), c->spec, k, v[0]);
	} else {
		for (int h = 0; h < 2 && !err; h++)
			err = run_map(c, (h + k) % 2, repeat, &v[(h + k) % 2]);
		if (!err)
			printf("%d:%s/hot,%d,%.1f\n%d:%s/random,%d,%.1f\n", (int)(c - items),
			       c->spec, k, v[1], (int)(c - items), c->spec, k, v[0]);
	}
	if (err)
		fprintf(stderr, "memchase: run of %s failed: %s\n", c->spec, strerror(-err));
	fflush(stdout);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "runs", required_argument, NULL, 'k' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "n", required_argument, NULL, 'n' },
		{},
	};
	unsigned long repeat = 200000, n = 1000000;
	int runs = 9, c, nc = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			runs = atoi(optarg);
			break;
		case 'r':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	libbpf_set_print(quiet);
	build_frame();
	for (int i = optind; i < argc && nc < CONFIGS_MAX; i++, nc++) {
		int row = strncmp(argv[i], "arr:", 4) && strncmp(argv[i], "hash:", 5) &&
			  strncmp(argv[i], "user:", 5) && strncmp(argv[i], "oa:", 3);

		items[nc].spec = strdup(argv[i]);
		if ((row ? parse_dep : parse_map)(&items[nc], argv[i])) {
			fprintf(stderr, "memchase: bad item '%s'\n", items[nc].spec);
			return 2;
		}
		if (row)
			items[nc].kind = 3;
	}
	if (!nc || runs < 1 || !repeat || !n) {
		fprintf(stderr, "usage: memchase [--runs K] [--repeat R] [--n N] ITEM...\n");
		return 2;
	}
	for (int i = 0; i < nc; i++)
		if (setup(&items[i], n))
			return 1;
	printf("item,round,ns\n");
	for (int k = 0; k < runs; k++)
		for (int j = 0; j < nc; j++) /* the items' order alternates */
			if (run_item(&items[k % 2 ? nc - 1 - j : j], k, repeat))
				return 1;
	return 0;
}
