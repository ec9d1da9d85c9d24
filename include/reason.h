/* reason.h: why a packet got its verdict; one code per path, shared by BPF and loader. */
#ifndef IRONCLAW_REASON_H
#define IRONCLAW_REASON_H

/*
 * Codes below REASON_FIRST_DENY allow the packet, the others deny it.
 * Append only: the numbers are stored in counters and shown to users.
 */
enum reason {
	REASON_RULE = 0, /* a stage's rule matched */
	REASON_ARP, /* ARP from one of the sandbox's own addresses */
	REASON_ND, /* IPv6 neighbour/router solicitation or advertisement */
	REASON_LOOPBACK, /* cgroup hooks: traffic that stays inside the sandbox (lo) */
	REASON_WOULD_DENY, /* audit mode: denied by the policy, let through and recorded */
	REASON_FIRST_DENY,
	REASON_NO_RULE = REASON_FIRST_DENY, /* the stage has no matching rule */
	REASON_NO_CLASS, /* no stage claims this {protocol, port} */
	REASON_NO_STAGE, /* empty prog-array slot or failed tail call */
	REASON_TRUNCATED, /* a header ends past the end of the packet */
	REASON_MALFORMED, /* a header field is impossible (IHL < 5, ...) */
	REASON_FRAGMENT, /* IPv4 or IPv6 fragment */
	REASON_FRAG_CHAIN, /* IPv6 first fragment without the transport header (RFC 7112) */
	REASON_L3_PROTO, /* ethertype other than IPv4, IPv6, ARP */
	REASON_L4_PROTO, /* transport other than TCP, UDP (and ND) */
	REASON_SPOOFED, /* source address is not one of the sandbox's */
	REASON_MAPPED_DST, /* IPv6 destination in ::ffff:0:0/96 */
	REASON_VLAN, /* VLAN tag in the frame or in the skb */
	REASON_SOURCE_ROUTE, /* IPv4 LSRR/SSRR option, IPv6 routing header with segments left */
	REASON_BLOCKED, /* the instance is in its deny-all state */
	REASON_NO_CONFIG, /* the control word could not be read */
	REASON_BAD_META, /* a stage got metadata it cannot use */
	REASON_QNAME, /* DNS: the question's name matches no 'allow dns' line */
	REASON_DNS_QDCOUNT, /* DNS: a query with other than one question */
	REASON_DNS_NAME_LEN, /* DNS: a name over 253 bytes, or a label over 63 */
	REASON_DNS_COMPRESSION, /* DNS: a compression pointer in a query */
	REASON_DNS_MALFORMED, /* DNS: not a well-formed query (cut short, extra bytes, ...) */
	REASON_DNS_QTYPE, /* DNS: a query type (or class) outside the allowed set */
	REASON_DNS_TCP, /* DNS over TCP while query names are checked */
	REASON_TOOL_DEFERRED, /* XDP (an allow): only a rule of some tool matches; tc ingress,
			       * which knows the sender's tool, decides */
	REASON_FLOW, /* a flow opened while its address was learned from DNS, past the expiry */
	REASON_NAME_EXPIRED, /* a new flow to an address learned from DNS whose TTL (+ grace) ran out */
	/* layer 2 at a host-side hook (include/l2_link.h) */
	REASON_SPOOFED_MAC, /* Ethernet source, ARP sender or ND link-layer option not the sandbox's MAC */
	REASON_L2_DST, /* an IP frame to a MAC other than the gateway's (broadcast, a neighbour) */
	REASON_TRAILER, /* bytes after the IP datagram or the ARP message */
	REASON_ARP_DENIED, /* ARP other than a request or reply for the gateway */
	REASON_ND_DENIED, /* neighbour discovery other than what reaching the gateway needs */
	REASON_MLD, /* an MLD message: denied, counted, not logged (nothing needs it) */
	REASON_LEARN_BOUND, /* an address of a resolver's answer not learned: its name has
			     * max-addresses, or the instance max-total, live ones (learn_tc's event) */
	REASON_SNI, /* https: a flow to an address learned from DNS whose ClientHello names another
		     * host (or none, or cannot be read: docs/sni.md) */
	REASON_MAX,
};

#define REASON_IS_ALLOW(r)                                                                         \
	((r) < REASON_FIRST_DENY || (r) == REASON_TOOL_DEFERRED || (r) == REASON_FLOW)

/* denials counted but not logged: the kernel sends them unasked, so logging them is noise */
#define REASON_IS_QUIET(r) ((r) == REASON_MLD)

#endif
