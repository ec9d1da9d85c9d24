/* stage_desc.h: how a stage object describes itself to the loader, and the slot numbers. */
#ifndef IRONCLAW_STAGE_DESC_H
#define IRONCLAW_STAGE_DESC_H

#include <linux/types.h>

#define STAGE_DESC_ABI 1 /* this layout of struct stage_desc */
#define STAGE_DESC_SECTION ".rodata.stage" /* libbpf exposes it as a map of that name */
#define STAGE_NAME_LEN 16
#define STAGE_MAX_CLASSES 8

/* Slots 1..STAGE_MAX_SLOTS-1; 0 is never used. Bank g occupies [g * STAGE_MAX_SLOTS, ...). */
#define STAGE_MAX_SLOTS 16
#define STAGE_PROG_ARRAY_SIZE (2 * STAGE_MAX_SLOTS)

#define SLOT_DNS 1
#define SLOT_HTTPS 2
#define SLOT_INTERNAL 3

enum stage_map_kind {
	STAGE_MAP_EXACT = 1, /* hash: struct policy_key -> struct policy_value */
	STAGE_MAP_PREFIX = 2, /* LPM trie: struct policy_lpm_key -> struct policy_value */
};

struct stage_class {
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__u16 port; /* host order; 0 = every port no other stage claims */
};

/*
 * The first word was one __u32 'abi' (1) before stage API versions: an old
 * object reads as abi 1, api 0 (on a little-endian host; the loader compares
 * the whole word, so on any host). The API version is the one of
 * include/ironclaw/stage.h, which STAGE_DESCRIBE writes.
 */
struct stage_desc {
	__u16 abi; /* STAGE_DESC_ABI */
	__u16 api; /* IRONCLAW_STAGE_API_VERSION the object was built with; 0: before versions */
	char name[STAGE_NAME_LEN]; /* NUL-terminated, [a-z0-9_] */
	__u32 slot;
	__u32 map_kind; /* enum stage_map_kind */
	__u32 nr_classes;
	struct stage_class classes[STAGE_MAX_CLASSES];
};

_Static_assert(sizeof(struct stage_class) == 4, "stage_class layout");
_Static_assert(sizeof(struct stage_desc) == 64, "stage_desc layout");

#endif
