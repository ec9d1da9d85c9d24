/*
 * test_map_walk.c: a big hash map read in two halves (loader/map_walk.c, what a switch reads
 * the old generation's counters with) reads every entry once, as the whole walk does.
 * Makes BPF maps: root (make test runs as root), else skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include "map_walk.h"

#define N 60000u

struct seen {
	__u8 *hits; /* by key */
	size_t n;
};

static int count_key(void *ctx, const void *key, const void *value)
{
	struct seen *s = ctx;
	__u64 k, v;

	memcpy(&k, key, sizeof(k));
	memcpy(&v, value, sizeof(v));
	cr_assert_lt(k, 2 * N);
	cr_assert_eq(v, k * 3, "key %llu: value %llu", (unsigned long long)k,
		     (unsigned long long)v);
	s->hits[k]++;
	s->n++;
	return 0;
}

static int make_map(__u32 max, __u32 n)
{
	__u64 *keys = calloc(n, sizeof(*keys)), *vals = calloc(n, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	__u32 count = n;
	int fd;

	if (geteuid())
		cr_skip_test("makes BPF maps: run as root");
	/* as the rule maps: elements allocated as they are added */
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "walk_test", 8, 8, max, &opts);
	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	cr_assert(keys && vals);
	for (__u32 i = 0; i < n; i++) {
		keys[i] = 2ull * i + (i & 1); /* every other key, some odd */
		vals[i] = keys[i] * 3;
	}
	cr_assert_eq(bpf_map_update_batch(fd, keys, vals, &count, NULL), 0, "%s", strerror(errno));
	free(keys);
	free(vals);
	return fd;
}

/* split_expected: 1 yes, 0 no, -1 either (a few keys may all hash below the middle) */
static void expect_halves_read_all(__u32 max, __u32 n, int split_expected)
{
	struct seen s = { .hits = calloc(2 * N, 1) };
	struct map_walk_half half[2];
	int fd = make_map(max, n), split;

	split = map_walk_split(fd, half);
	if (split_expected >= 0)
		cr_assert_eq(split == 0, split_expected, "max %u, %u entries: split %d", max, n,
			     split);
	cr_assert_eq(map_walk_half(&half[0], count_key, &s), 0);
	if (!split) {
		cr_assert(half[0].saw_stop, "the first half never met the second's first key");
		cr_assert_eq(map_walk_half(&half[1], count_key, &s), 0);
	}
	cr_assert_eq(s.n, n, "%zu entries read of %u", s.n, n);
	for (__u32 k = 0; k < 2 * N; k++)
		cr_assert_eq(s.hits[k], k % 4 == 0 || k % 4 == 3 ? (k / 2 < n) : 0,
			     "key %u read %d times", k, s.hits[k]);
	free(s.hits);
	close(fd);
}

Test(map_walk, big_hash_map_in_two_halves_reads_each_entry_once)
{
	expect_halves_read_all(65536, N, 1);
}

Test(map_walk, half_full_and_sparse_maps)
{
	expect_halves_read_all(1u << 18, N, 1);
	expect_halves_read_all(1u << 18, 3, -1);
}

Test(map_walk, small_map_is_not_split)
{
	expect_halves_read_all(4096, 4000, 0);
}
