/* map_walk.h: every entry of a BPF map read in batches, and keys deleted in batches. */
#ifndef IRONCLAW_MAP_WALK_H
#define IRONCLAW_MAP_WALK_H

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
