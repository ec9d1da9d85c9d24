/* map_walk.c: every entry of a BPF map read in batches, and keys deleted in batches. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_walk.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's, not in libc's errno.h */
#endif

/* the bytes a lookup writes for one value of the map in info (per CPU: one per possible CPU) */
static size_t value_bytes(const struct bpf_map_info *info)
{
	int ncpu = libbpf_num_possible_cpus();

	switch (info->type) {
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return ncpu > 0 ? (size_t)ncpu * ((info->value_size + 7) & ~7u) : 0;
	default:
		return info->value_size;
	}
}

/* the kernel has no batches for this map's type */
static bool no_batches(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUPP;
}

/* one entry at a time: for a map without batches */
static int walk_one_by_one(int fd, char *key, char *value, map_entry_fn fn, void *ctx)
{
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, key); !err;
	     err = bpf_map_get_next_key(fd, key, key)) {
		if (bpf_map_lookup_elem(fd, key, value))
			continue; /* deleted since the key was read */
		err = fn(ctx, key, value);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * The walk from the bucket in start (NULL: the first); with stop, it ends before the entry
 * whose key is stop (*saw_stop says whether it came)
 */
static int walk_from(int fd, const __u32 *start, const void *stop, bool *saw_stop, map_entry_fn fn,
		     void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), count;
	char *keys = NULL, *vals = NULL, *token = NULL;
	bool first = !start, last = false;
	size_t vb;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	vb = value_bytes(&info);
	if (!vb || !info.key_size)
		return -EINVAL;
	keys = malloc((size_t)MAP_WALK_BATCH * info.key_size);
	vals = malloc((size_t)MAP_WALK_BATCH * vb);
	/* the batch token: a hash map's is a bucket number, another's the last key */
	token = calloc(1, info.key_size + sizeof(__u64));
	err = keys && vals && token ? 0 : -ENOMEM;
	if (!err && start)
		memcpy(token, start, sizeof(*start));
	while (!err && !last) {
		count = MAP_WALK_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, vals, &count,
					   &opts) ?
			      -errno :
			      0;
		if (err && first && no_batches(err)) {
			err = walk_one_by_one(fd, keys, vals, fn, ctx);
			break;
		}
		/* ENOENT: the end, with the last entries in this batch */
		last = err == -ENOENT;
		if (last)
			err = 0;
		first = false;
		for (__u32 i = 0; !err && i < count; i++) {
			if (stop &&
			    !memcmp(keys + (size_t)i * info.key_size, stop, info.key_size)) {
				*saw_stop = true;
				last = true;
				break;
			}
			err = fn(ctx, keys + (size_t)i * info.key_size, vals + (size_t)i * vb);
		}
	}
	free(keys);
	free(vals);
	free(token);
	return err;
}

int map_walk(int fd, map_entry_fn fn, void *ctx)
{
	return walk_from(fd, NULL, NULL, NULL, fn, ctx);
}

int map_walk_split(int fd, struct map_walk_half half[2])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), count = 0, in, out, buckets = 1;
	char *keys = NULL, *vals = NULL;
	int err = -ENOENT;

	memset(half, 0, 2 * sizeof(*half));
	half[0].fd = half[1].fd = fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    (info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_PERCPU_HASH) ||
	    info.key_size > sizeof(half->stop_key) || info.max_entries < MAP_WALK_SPLIT_MIN)
		return 1;
	/* the kernel's bucket array: max_entries rounded up to a power of two */
	while (buckets < info.max_entries && buckets < (1u << 31))
		buckets <<= 1;
	half[1].from = buckets / 2;
	keys = malloc((size_t)MAP_WALK_BATCH * info.key_size);
	vals = malloc((size_t)MAP_WALK_BATCH * value_bytes(&info));
	/* the first key from the middle: one bucket (a batch too small for a bucket: ENOSPC) */
	for (__u32 want = 1; keys && vals && want <= MAP_WALK_BATCH; want *= 2) {
		in = half[1].from;
		count = want;
		err = bpf_map_lookup_batch(fd, &in, &out, keys, vals, &count, &opts) ? -errno : 0;
		if (err != -ENOSPC)
			break;
	}
	if ((!err || err == -ENOENT) && count > 0) {
		memcpy(half[0].stop_key, keys, info.key_size);
		half[0].has_stop = true;
	}
	free(keys);
	free(vals);
	return half[0].has_stop ? 0 : 1;
}

int map_walk_half(struct map_walk_half *h, map_entry_fn fn, void *ctx)
{
	if (h->from)
		return walk_from(h->fd, &h->from, NULL, NULL, fn, ctx);
	return walk_from(h->fd, NULL, h->has_stop ? h->stop_key : NULL, &h->saw_stop, fn, ctx);
}

static int count_one(void *ctx, const void *key, const void *value)
{
	(void)key;
	(void)value;
	++*(__u64 *)ctx;
	return 0;
}

int map_count(int fd, __u64 *n)
{
	*n = 0;
	return map_walk(fd, count_one, n);
}

int map_delete_keys(int fd, const void *keys, size_t n, size_t key_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const char *k = keys;
	size_t done = 0;
	bool batches = true;
	int err = 0;

	while (done < n) {
		__u32 count = n - done < MAP_WALK_BATCH ? n - done : MAP_WALK_BATCH;

		if (batches) {
			if (!bpf_map_delete_batch(fd, k + done * key_size, &count, &opts)) {
				done += count;
				continue;
			}
			if (errno == ENOENT) {
				done += count + 1; /* the key at count is gone already */
				continue;
			}
			if (!count && no_batches(-errno)) {
				batches = false;
				continue;
			}
			if (!err)
				err = -errno;
			done += count + 1;
			continue;
		}
		if (bpf_map_delete_elem(fd, k + done * key_size) && errno != ENOENT && !err)
			err = -errno;
		done++;
	}
	return err;
}

struct gen_keys {
	size_t gen_off, key_size, n, cap;
	__u8 gen;
	char *keys;
};

static int collect_gen(void *ctx, const void *key, const void *value)
{
	struct gen_keys *g = ctx;

	(void)value;
	if (((const __u8 *)key)[g->gen_off] != g->gen)
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 256;
		char *k = realloc(g->keys, cap * g->key_size);

		if (!k)
			return -ENOMEM;
		g->keys = k;
		g->cap = cap;
	}
	memcpy(g->keys + g->n++ * g->key_size, key, g->key_size);
	return 0;
}

int map_clear_gen(int fd, size_t gen_off, __u32 gen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct gen_keys g = { .gen_off = gen_off, .gen = gen };
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (gen_off >= info.key_size)
		return -EINVAL;
	g.key_size = info.key_size;
	/* the keys first, then the deletions: a walk does not see a map it changes */
	err = map_walk(fd, collect_gen, &g);
	if (!err)
		err = map_delete_keys(fd, g.keys, g.n, g.key_size);
	free(g.keys);
	return err;
}
