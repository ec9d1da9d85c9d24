/* map_walk.h: every entry of a BPF map read in batches, and keys deleted in batches. */
#ifndef IRONCLAW_MAP_WALK_H
#define IRONCLAW_MAP_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* entries read or deleted in one system call */
#define MAP_WALK_BATCH 4096

/* one entry of a walk: its key and value (per CPU: one value a possible CPU, 8-byte aligned) */
typedef int (*map_entry_fn)(void *ctx, const void *key, const void *value);

/*
 * Calls fn for every entry of the map in fd, MAP_WALK_BATCH entries a system
 * call (bpf_map_lookup_batch) where the map's type has batches, else one
 * entry at a time (an LPM trie). fn must not delete from the map. Returns 0,
 * fn's first nonzero return (the walk stops there), or -errno.
 */
int map_walk(int fd, map_entry_fn fn, void *ctx);
/*
 * A hash map's walk in two halves, for two threads: a hash map's batch token is a
 * bucket number, and a batch holds whole buckets in order, each bucket's
 * entries in its chain's order (the kernel's htab batches). The second half
 * starts at the middle bucket; the first ends before the first key the second
 * reads, which map_walk_split reads first. 0: two halves, 1: no split (a small
 * map, another type, nothing past the middle: walk half[0] alone, which is the
 * whole map). A first half that never met its stop key (a kernel that orders
 * otherwise) walked the whole map: the second half's entries are counted twice.
 */
#define MAP_WALK_SPLIT_MIN 65536 /* max_entries: below, the walk is not split */

struct map_walk_half {
	int fd;
	__u32 from; /* the first bucket; 0: the map's start */
	bool has_stop, saw_stop;
	char stop_key[64];
};

int map_walk_split(int fd, struct map_walk_half half[2]);
int map_walk_half(struct map_walk_half *h, map_entry_fn fn, void *ctx);
/* counts the entries of the map in fd into *n: 0 or -errno */
int map_count(int fd, __u64 *n);
/*
 * Deletes n keys of key_size bytes each, MAP_WALK_BATCH a system call where
 * the map has batches; a key already gone is no error. 0 or the first -errno.
 */
int map_delete_keys(int fd, const void *keys, size_t n, size_t key_size);
/* deletes every entry whose key has the byte gen at gen_off: 0 or the first -errno */
int map_clear_gen(int fd, size_t gen_off, __u32 gen);

#endif
