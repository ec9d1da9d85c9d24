/* learn.h: host names that follow DNS: the learning maps' keys and values, limits and settings. */
#ifndef IRONCLAW_LEARN_H
#define IRONCLAW_LEARN_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

/*
 * 'allow tcp name HOST port P' allows the addresses the resolver gave for
 * HOST, while the answer's TTL lasts. The pieces:
 *   learn_names     {gen, HOST or *.SUFFIX as a dns_name_key} -> name id (loader): an LPM
 *                   trie on reversed labels (dns_policy.h), so a query finds the most
 *                   specific followed name that covers it, exact or wildcard
 *   learn_rules     {gen, proto, port, tool} -> the names allowed there (loader)
 *   learn_resolvers {gen, address} -> its index: whose answers are learned (loader: the dns
 *                   stage's rules); a name learns from the resolvers of its mask ('via')
 *   learn_config    [gen]: grace, max TTL, max addresses per name and in all (loader)
 *   learn_pending   an allowed query, its id rewritten, waiting for its answer (dns stage, at
 *                   host-side tc ingress only): restores the sandbox's id, learns when followed
 *   learn_ports     {sandbox address, port, resolver} with a query waiting: an answer there
 *                   with an id no query has is forged (dns stage; learning program)
 *   learn_rate      the instance's learnable queries this second, and the last forgery seen
 *   learned         {name id, address} -> deadline: what lookups compare (learning program)
 *   learn_addr_counts [name id] -> entries of that name in learned, [0] of all of them: the
 *                   bounds (learning program; the loader's prune, through mmap, atomically)
 *   learn_flows     5-tuples allowed through a learned address, which outlive its expiry
 * Name ids do not belong to a generation: an install keeps each name's id, so what
 * was learned stays learned across reloads (learn_names maps the name to it again).
 */

/* addresses one name may have learned at once (max-addresses is at most this) */
#define LEARN_ADDRS_MAX 1024
/* addresses all names together may have learned (max-total is at most this: learned's size) */
#define LEARN_TOTAL_MAX 16384
/* name ids are below this (learn_addr_counts is indexed by them) */
#define LEARN_IDS_MAX 1024
/* resolvers one generation may have (learn_resolvers' index, a bit of a name's mask) */
#define LEARN_RESOLVERS_MAX 64
/* expired addresses are looked for (to give up their place) at most this often */
#define LEARN_GC_NS 1000000000ull
/* name rules one {protocol, port, tool} may hold */
#define LEARN_NAMES_PER_PORT 8
/* names one profile may follow */
#define LEARN_NAMES_MAX 256
/* {protocol, port, tool} entries of name rules one generation may hold */
#define LEARN_PORTS_MAX 8192
/* CNAME links followed in one answer */
#define LEARN_CHAIN_MAX 8
/*
 * Bytes of one answer the learning program reads, in a buffer of its own
 * (not the dns stage's DNS_MSG_MAX for queries): an EDNS answer of 1232
 * bytes (the usual advertised size) or one that fills a 1500-byte link,
 * whole. Of a longer message the records wholly inside its first
 * LEARN_MSG_MAX bytes are read, the rest counted (LEARN_EV_TOO_BIG).
 */
#define LEARN_MSG_MAX 2048
/*
 * Answer records read from one answer: every one LEARN_MSG_MAX bytes can
 * hold (the shortest record is 11 bytes), so the buffer is the bound.
 */
#define LEARN_RECORDS_MAX 192
/* queries waiting for an answer, and how long one waits */
#define LEARN_PENDING_MAX 4096
#define LEARN_PENDING_NS (10ull * 1000000000ull)
/* the second over which learnable queries are counted ('dns learn rate N') */
#define LEARN_RATE_NS 1000000000ull
/* flows kept past their address's expiry; a UDP flow ends after this long idle */
#define LEARN_FLOWS_MAX 16384
#define LEARN_UDP_IDLE_NS (60ull * 1000000000ull)

/* defaults of 'dns learn grace S max-ttl S max-addresses N rate N' */
#define LEARN_DEFAULT_GRACE 5
#define LEARN_DEFAULT_MAX_TTL 3600
#define LEARN_DEFAULT_MAX_ADDRS 64
#define LEARN_DEFAULT_MAX_TOTAL LEARN_TOTAL_MAX
/*
 * 'rate N': learnable queries (for a followed name) one instance records a
 * second; past it a query's answer only gets its id back. A forged answer
 * (an id no query has, to an address and port a query waits on) discards
 * every waiting query and ends learning for the rest of the second, so a
 * partner gets one guess of a 16-bit random id a second (README: threat model).
 */
#define LEARN_DEFAULT_RATE 16
#define LEARN_RATE_MAX 1000
#define LEARN_GRACE_MAX 86400
#define LEARN_MAX_TTL_MAX 604800

/* learn_config map, index = generation */
struct learn_config {
	__u32 grace_s; /* seconds added to every answer's TTL */
	__u32 max_ttl_s; /* TTLs above this are cut to it */
	__u32 max_addrs; /* live addresses one name may have (1..LEARN_ADDRS_MAX) */
	__u32 rate; /* learnable queries a second (1..LEARN_RATE_MAX) */
	__u32 max_total; /* live addresses of all names together (1..LEARN_TOTAL_MAX) */
	__u32 pad;
};

/* learn_names: as dns_name_value, with the resolvers that may teach the name */
struct learn_name_value {
	__u32 name_id; /* 1..LEARN_IDS_MAX-1; 0 is never used */
	__u16 name_len; /* name bytes in the key (a wildcard's suffix; with the 0 byte if exact) */
	__u8 wildcard; /* *.SUFFIX: its own suffix is not below it (learn_name_lookup) */
	__u8 pad;
	__u64 resolvers; /* bit i: the resolver of index i (learn_resolvers) may teach it */
};

/* learn_rules: the names allowed for {generation, protocol, port, tool} */
struct learn_rule_key {
	__u64 tool; /* cgroup id; 0 = every process; POLICY_TOOL_UNKNOWN for XDP */
	__u8 gen;
	__u8 l4proto;
	__be16 dport; /* network order */
	__u32 pad;
};

struct learn_rule_value {
	__u32 nr; /* entries used in e[] */
	__u32 flags; /* POLICY_F_TOOL_RULE: the markers XDP matches (tool_deferred);
		      * LEARN_F_SNI_OFF(i): e[i]'s rule says 'sni off' (docs/sni.md) */
	struct {
		__u32 name_id;
		__u32 rule_id;
	} e[LEARN_NAMES_PER_PORT];
};

/* e[i]'s rule says 'sni off': its addresses are not bound to a TLS server name (docs/sni.md) */
#define LEARN_F_SNI_OFF(i) (0x10000u << (i))
#define LEARN_F_SNI_OFF_ANY (((1u << LEARN_NAMES_PER_PORT) - 1) << 16)

/* learn_resolvers: the instance's resolvers (whose answers are learned) */
struct learn_resolver_key {
	__u8 gen;
	__u8 family;
	__u8 pad[2];
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
};

/* learned: one address of one name, and until when it allows new flows */
struct learned_key {
	__u32 name_id;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct learned_value {
	__u64 deadline_ns; /* bpf_ktime_get_ns(): TTL (cut to max-ttl) + grace after the answer */
	__u64 learned_ns; /* when the answer came */
	__u32 ttl; /* the TTL as the answer gave it */
	__u32 pad;
};

/*
 * learn_addr_counts: [name id] the entries of that name in learned, live or
 * not yet given up; [0] of every name. Taken before an entry is added
 * (given back when it is not), given back when one is deleted; an expired
 * entry is deleted when a bound is reached, at most once every LEARN_GC_NS
 * (gc_ns of [0]).
 */
struct learn_addr_count {
	__u32 n;
	__u32 pad;
	__u64 gc_ns;
};

/*
 * learn_pending: a query to a resolver, as its answer will come back; the
 * same key with txid 0 is learn_ports' (a query waits on that address and port)
 */
struct learn_pending_key {
	__u8 family;
	__u8 pad;
	__be16 txid; /* the id the pipeline wrote (random), as on the wire */
	__be16 sport; /* the sandbox's port */
	__be16 dport; /* the resolver's (53) */
	__u8 saddr[16]; /* the sandbox's address */
	__u8 daddr[16]; /* the resolver's */
};

struct learn_pending_value {
	__u64 expires_ns; /* recorded at expires_ns - LEARN_PENDING_NS */
	__u32 name_id; /* 0: a name not followed, or over the rate: the id restored, nothing learned */
	__u16 qtype; /* host order */
	__be16 sandbox_txid; /* the id the sandbox wrote, given back to its answer */
};

/* learn_ports: the queries waiting on one {sandbox address, port, resolver} */
struct learn_port_value {
	__u64 expires_ns; /* the last one's; past it, none waits */
	__u32 waiting; /* recorded and not answered yet */
	__u32 pad;
};

/* learn_rate: one entry, the instance's */
struct learn_rate {
	struct bpf_spin_lock lock;
	__u32 count; /* learnable queries recorded since window_ns (~0: none until the next second) */
	__u64 window_ns; /* the second counted begins */
	__u64 voided_ns; /* the last forged answer: queries recorded before it learn nothing */
};

/* learn_flows: a connection (or UDP flow) opened while its address was learned */
struct learn_flow_key {
	__u8 family;
	__u8 l4proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct learn_flow_value {
	__u64 tool; /* the tool it was allowed for (0: every process) */
	__u64 last_ns; /* last packet */
	__u64 cookie; /* the sending socket's cookie where the hook has one; 0: unknown (XDP) */
	__u32 name_id;
	__u32 rule_id;
};

/* what became of the answers the learning program saw (learn_counts, per CPU) */
enum learn_event {
	LEARN_EV_LEARNED = 0, /* an address learned, or its TTL renewed */
	LEARN_EV_NOT_RESOLVER, /* a DNS answer from an address that is no resolver of the instance */
	LEARN_EV_NO_QUERY, /* no waiting query with its id, ports and addresses */
	LEARN_EV_QUESTION, /* its question is not the query's (name, type or class) */
	LEARN_EV_MALFORMED, /* not a well-formed answer: cut short, pointer loops, bad lengths */
	LEARN_EV_TOO_BIG, /* an IP fragment, or records past the first LEARN_MSG_MAX bytes */
	LEARN_EV_RCODE, /* an error answer: nothing learned, the query answered */
	LEARN_EV_CAP, /* an address not learned: its name has max-addresses live ones */
	LEARN_EV_CHAIN, /* a CNAME chain longer than LEARN_CHAIN_MAX */
	LEARN_EV_OFF_CHAIN, /* a record neither on the chain nor of the asked type: skipped */
	LEARN_EV_WRONG_ID, /* forged: an id no query has, to an address and port a query waits on */
	LEARN_EV_RATE, /* a query over the rate (or after a forgery): its answer not learned */
	LEARN_EV_WRONG_IF, /* came in by another interface than the host's route to the resolver */
	LEARN_EV_TOTAL, /* an address not learned: the instance has max-total live ones */
	LEARN_EV_NOT_VIA, /* an answer for a name from a resolver its rules' 'via' does not name */
	LEARN_EV_TRUNCATED, /* a truncated answer (TC): the records it carries are learned */
	LEARN_EV_TCP, /* a TCP connection to a resolver (dns stage): its answers never learned */
	LEARN_EV_MAX,
};

_Static_assert(LEARN_RECORDS_MAX * 11 >= LEARN_MSG_MAX, "every record the buffer holds is read");
_Static_assert((LEARN_MSG_MAX & (LEARN_MSG_MAX - 1)) == 0, "LEARN_MSG_MAX: a power of 2 (masks)");
_Static_assert(sizeof(struct learn_config) == 24, "learn_config layout");
_Static_assert(sizeof(struct learn_name_value) == 16, "learn_name_value layout");
_Static_assert(sizeof(struct learn_rule_key) == 16, "learn_rule_key layout");
_Static_assert(sizeof(struct learn_rule_value) == 8 + 8 * LEARN_NAMES_PER_PORT,
	       "learn_rule_value layout");
_Static_assert(sizeof(struct learn_resolver_key) == 20, "learn_resolver_key layout");
_Static_assert(sizeof(struct learned_key) == 24, "learned_key layout");
_Static_assert(sizeof(struct learned_value) == 24, "learned_value layout");
_Static_assert(sizeof(struct learn_addr_count) == 16, "learn_addr_count layout");
_Static_assert(sizeof(struct learn_pending_key) == 40, "learn_pending_key layout");
_Static_assert(sizeof(struct learn_pending_value) == 16, "learn_pending_value layout");
_Static_assert(sizeof(struct learn_rate) == 24, "learn_rate layout");
_Static_assert(sizeof(struct learn_port_value) == 16, "learn_port_value layout");
_Static_assert(sizeof(struct learn_flow_key) == 40, "learn_flow_key layout");
_Static_assert(sizeof(struct learn_flow_value) == 32, "learn_flow_value layout");

#endif
