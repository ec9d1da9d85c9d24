/* rules4.c: an exact stage's table rules4 (include/rule_table.h) from user space: made, filled, probed and edited through mmap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "rules4.h"

__u32 rules4_bits(size_t needed)
{
	__u32 bits = RULE_TABLE_MIN_BITS;

	while (bits < RULE_TABLE_MAX_BITS && (1ull << bits) < 2ull * needed)
		bits++;
	return bits;
}

__u32 rules4_bits_of(__u32 max_entries)
{
	for (__u32 bits = RULE_TABLE_MIN_BITS; bits <= RULE_TABLE_MAX_BITS; bits++)
		if (RULE_TABLE_SLOTS(bits) == max_entries)
			return bits;
	return 0;
}

/*
 * Whether words' keys all land within RULE_TABLE_PROBES slots of their homes
 * in a table of 2^bits home slots, in whatever order they are added: linear
 * probing fills the same slots in any order, and a key ends at worst in the
 * last slot of the run of full slots it starts in, a run that begins at a
 * home. So: no run longer than the bound, none past the table's tail.
 * homes: scratch of 2^bits counters.
 */
static bool rules4_fits(const __u64 *words, size_t n, __u32 bits, __u32 *homes)
{
	size_t nr_homes = (size_t)1 << bits, waiting = 0, run = 0;

	memset(homes, 0, nr_homes * sizeof(*homes));
	for (size_t i = 0; i < n; i++)
		homes[rule_table_home(rule_table_word(words[i]), 64 - bits)]++;
	for (size_t s = 0; s < nr_homes + RULE_TABLE_PROBES; s++) {
		waiting += s < nr_homes ? homes[s] : 0;
		if (!waiting) {
			run = 0;
			continue;
		}
		waiting--;
		if (++run > RULE_TABLE_PROBES)
			return false;
	}
	return !waiting;
}

size_t rules4_size_for(const __u64 *words, size_t n)
{
	__u32 first = rules4_bits(n);
	__u32 *homes = NULL;
	size_t size = n;

	if (n == 0)
		return 0;
	for (__u32 bits = first; bits <= RULE_TABLE_MAX_BITS; bits++) {
		free(homes);
		homes = malloc(((size_t)1 << bits) * sizeof(*homes));
		if (!homes || rules4_fits(words, n, bits, homes)) {
			/* the entries rules4_bits turns into these bits */
			size = bits == first || !homes ? n : (size_t)1 << (bits - 1);
			break;
		}
	}
	free(homes);
	return size;
}

int rules4_create(const char *name, size_t needed)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	__u32 bits = rules4_bits(needed);
	struct rules4 t;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), sizeof(struct rule_slot4),
			    RULE_TABLE_SLOTS(bits), &opts);
	if (fd < 0)
		return -errno;
	err = rules4_map(fd, true, &t);
	if (err) {
		close(fd);
		return err;
	}
	t.head->bits = bits;
	rules4_unmap(&t);
	return fd;
}

int rules4_map(int fd, bool writable, struct rules4 *t)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *m;

	memset(t, 0, sizeof(*t));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct rule_slot4) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || !rules4_bits_of(info.max_entries))
		return -EINVAL;
	t->len = (size_t)info.max_entries * sizeof(struct rule_slot4);
	m = mmap(NULL, t->len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	rules4_over(t, m, rules4_bits_of(info.max_entries));
	t->len = (size_t)info.max_entries * sizeof(struct rule_slot4);
	return 0;
}

void rules4_unmap(struct rules4 *t)
{
	if (t->slots && t->len)
		munmap(t->slots, t->len);
	memset(t, 0, sizeof(*t));
}

void rules4_over(struct rules4 *t, void *mem, __u32 bits)
{
	t->slots = mem;
	t->bits = bits;
	t->len = 0;
	t->head = (struct rule_table_head *)&t->slots[RULE_TABLE_SLOTS(bits) - 1];
}

__u64 rules4_key(const struct policy_key4 *k)
{
	__u64 w;

	memcpy(&w, k, sizeof(w));
	return w;
}

static __u32 home(const struct rules4 *t, __u64 w)
{
	return rule_table_home(w, 64 - t->bits);
}

static bool past_load(const struct rules4 *t)
{
	__u64 used = __atomic_load_n(&t->head->used, __ATOMIC_RELAXED);

	return used + 1 > ((1ull << t->bits) * RULE_TABLE_LOAD_EIGHTHS) / 8;
}

int rules4_add(struct rules4 *t, __u64 k4, const struct policy_value *v, bool in_place)
{
	__u64 w = rule_table_word(k4), claimed = w & ~RULE_SLOT_LIVE;
	__u32 h = home(t, w);

	if (in_place && past_load(t))
		return -ENOSPC;
	for (__u32 n = 0; n < RULE_TABLE_PROBES;) {
		struct rule_slot4 *s = &t->slots[h + n];
		__u64 k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE), empty = RULE_SLOT_EMPTY;

		if (k == w)
			return -EEXIST;
		if (k != RULE_SLOT_EMPTY) {
			n++;
			continue;
		}
		/* claimed, not live: lookups walk past it, other adders take the next */
		if (!__atomic_compare_exchange_n(&s->key, &empty, claimed, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue; /* another adder took it: look at it again */
		s->v.rule_id = v->rule_id;
		s->v.flags = v->flags;
		s->v.packets = 0;
		s->v.bytes = 0;
		/* the value before the word that makes it live (rule_table.h) */
		__atomic_store_n(&s->key, w, __ATOMIC_RELEASE);
		__atomic_fetch_add(&t->head->used, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->head->live, 1, __ATOMIC_RELAXED);
		return 0;
	}
	return -ENOSPC;
}

bool rules4_room(const struct rules4 *t, __u64 k4)
{
	__u64 w = rule_table_word(k4);
	__u32 h = home(t, w);

	for (__u32 n = 0; n < RULE_TABLE_PROBES; n++) {
		__u64 k = __atomic_load_n(&t->slots[h + n].key, __ATOMIC_ACQUIRE);

		if (k == w)
			return true;
		if (k == RULE_SLOT_EMPTY)
			return !past_load(t);
	}
	return false;
}

struct rule_slot4 *rules4_find(const struct rules4 *t, __u64 k4)
{
	__u64 w = rule_table_word(k4);
	__u32 h = home(t, w);

	for (__u32 n = 0; n < RULE_TABLE_PROBES; n++) {
		struct rule_slot4 *s = &t->slots[h + n];
		__u64 k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (k == w)
			return s;
		if (k == RULE_SLOT_EMPTY)
			return NULL;
	}
	return NULL;
}

int rules4_del(struct rules4 *t, __u64 k4)
{
	struct rule_slot4 *s = rules4_find(t, k4);

	if (!s)
		return -ENOENT;
	/*
	 * One store: the word without LIVE. The slot stays used (a run goes on past
	 * it) and is never taken again in this table, so a lookup that read the
	 * word live a moment before reads this rule's value, never another's.
	 */
	__atomic_store_n(&s->key, s->key & ~RULE_SLOT_LIVE, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&t->head->live, 1, __ATOMIC_RELAXED);
	return 0;
}

bool rules4_live(const struct rules4 *t, size_t i, struct policy_key4 *k, struct policy_value *v)
{
	const struct rule_slot4 *s = &t->slots[i];
	__u64 w = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

	if (!(w & RULE_SLOT_LIVE))
		return false;
	w &= ~(RULE_SLOT_LIVE | RULE_SLOT_USED);
	memcpy(k, &w, sizeof(*k));
	v->rule_id = s->v.rule_id;
	v->flags = s->v.flags;
	v->packets = __atomic_load_n(&s->v.packets, __ATOMIC_RELAXED);
	v->bytes = __atomic_load_n(&s->v.bytes, __ATOMIC_RELAXED);
	return true;
}

int rules4_fd_get(int fd, __u64 k4, struct policy_value *v)
{
	struct rule_slot4 *s;
	struct rules4 t;
	int err = rules4_map(fd, false, &t);

	if (err)
		return err;
	s = rules4_find(&t, k4);
	if (s) {
		v->rule_id = s->v.rule_id;
		v->flags = s->v.flags;
		v->packets = __atomic_load_n(&s->v.packets, __ATOMIC_RELAXED);
		v->bytes = __atomic_load_n(&s->v.bytes, __ATOMIC_RELAXED);
	}
	rules4_unmap(&t);
	return s ? 0 : -ENOENT;
}

int rules4_fd_add(int fd, __u64 k4, const struct policy_value *v)
{
	struct rules4 t;
	int err = rules4_map(fd, true, &t);

	if (!err)
		err = rules4_add(&t, k4, v, true);
	rules4_unmap(&t);
	return err;
}

int rules4_fd_del(int fd, __u64 k4)
{
	struct rules4 t;
	int err = rules4_map(fd, true, &t);

	if (!err)
		err = rules4_del(&t, k4);
	rules4_unmap(&t);
	return err;
}

bool rules4_fd_room(int fd, __u64 k4)
{
	struct rules4 t;
	bool room = !rules4_map(fd, false, &t) && rules4_room(&t, k4);

	rules4_unmap(&t);
	return room;
}
