/* dns_policy.h: keys and values of the DNS stage's maps: allowed query names and query types. */
#ifndef IRONCLAW_DNS_POLICY_H
#define IRONCLAW_DNS_POLICY_H

#include <linux/types.h>

/*
 * A query name is matched in an LPM trie on its labels in reverse order,
 * each written as its length byte and its bytes, lowercase: "foo.internal.corp"
 * is "\x04corp\x08internal\x03foo". Label boundaries are structural (a length
 * byte starts every label), so "evilinternal.corp" ("\x04corp\x0cevilinternal")
 * is not below "internal.corp".
 *   exact name NAME:      the reversed name and a 0 byte (the root label, which
 *                         no other label can be): matches NAME alone
 *   wildcard *.SUFFIX:    the reversed SUFFIX without the 0 byte: a prefix of
 *                         every name below SUFFIX, and of SUFFIX itself, which
 *                         the stage then refuses (a wildcard needs one label more)
 *   wildcard * (all):     no name bytes at all
 * A query name's key is cut at DNS_NAME_KEY_BYTES: no rule is longer, so a
 * longer query can only match a wildcard, on the bytes kept.
 */
#define DNS_NAME_KEY_BYTES 244
/* gen, pad and tool always match in full */
#define DNS_NAME_FIXED_BITS 96

struct dns_name_key {
	__u32 prefixlen; /* DNS_NAME_FIXED_BITS + 8 * name bytes */
	__u8 gen;
	__u8 pad[3]; /* zero */
	__u64 tool; /* cgroup id of the tool's cgroup; 0 = every process of the sandbox */
	__u8 name[DNS_NAME_KEY_BYTES];
} __attribute__((packed, aligned(4)));

struct dns_name_value {
	__u32 rule_id; /* the rule's counter, after the address rules' */
	__u16 name_len; /* name bytes in the key (a wildcard's suffix; with the 0 byte if exact) */
	__u8 wildcard;
	__u8 pad;
};

/* dns_qtypes map: {generation, query type} of the types a query may ask for */
struct dns_qtype_key {
	__u16 qtype; /* host order */
	__u8 gen;
	__u8 pad;
};

/* name rules one generation may hold; the map holds two generations */
#define DNS_NAMES_MAX 1024
#define DNS_QTYPES_MAX 64

/* a name in a query: at most 255 bytes on the wire (253 as text), labels of 1-63 */
#define DNS_WIRE_NAME_MAX 255
#define DNS_LABEL_MAX 63
/* the largest query the stage reads: header, name, question, one OPT record */
#define DNS_MSG_MAX 512
/* EDNS options a query may carry in its OPT record (room for a DNS cookie) */
#define DNS_OPT_DATA_MAX 44

#define DNS_TYPE_OPT 41
#define DNS_CLASS_IN 1

_Static_assert(sizeof(struct dns_name_key) == 4 + 256, "dns_name_key: LPM data of 256 bytes");
_Static_assert(sizeof(struct dns_name_value) == 8, "dns_name_value layout");
_Static_assert(sizeof(struct dns_qtype_key) == 4, "dns_qtype_key layout");

#endif
