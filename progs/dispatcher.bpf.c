// SPDX-License-Identifier: GPL-2.0
/* dispatcher.bpf.c: per-hook entry of the pipeline; parses once and tail-calls the stage. */
#include "lib/dispatch.h"
#include "lib/meta_skb.h"
#include "lib/dns.h" /* declares the DNS maps the instance shares */
#include "lib/learn_packet.h" /* and the learning maps */
#include "lib/sni_maps.h" /* and the https stage's server-name state */

/* headers the parser may need in the linear area */
#define TC_PULL_LEN 512

/* a prog array takes one program type and attach type: one per hook */
#define STAGE_BANKS(name)                                                                          \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY);                                             \
		__uint(max_entries, STAGE_PROG_ARRAY_SIZE);                                        \
		__type(key, __u32);                                                                \
		__type(value, __u32);                                                              \
	} name SEC(".maps")

/* stages_tc, stages_cgskb, ...: one per row of the hook table */
#define STAGE_BANKS_ROW(ID, name, label, sec, entry, load, link, cgtype) STAGE_BANKS(stages_##name);
HOOK_TABLE(STAGE_BANKS_ROW)
#undef STAGE_BANKS_ROW

/*
 * The tail call into slot idx of banks, with a constant index at each call
 * site: the verifier sees one key per site and the JIT jumps straight into
 * the stage (a direct jump it patches when the slot changes), where a
 * variable index costs an indirect jump through a retpoline (19 ns of the
 * 50 an allowed packet cost at tc, bench/README.md). The asm after each call
 * differs per site, so the compiler cannot merge the sites back into one.
 * Returns only when the slot is empty.
 */
#define TAIL_AT(i)                                                                                 \
	case i:                                                                                    \
		bpf_tail_call(ctx, banks, i);                                                      \
		asm volatile("/* tail call " #i " */");                                            \
		break;
#define TAIL_AT4(i) TAIL_AT(i) TAIL_AT(i + 1) TAIL_AT(i + 2) TAIL_AT(i + 3)
#define TAIL_AT16(i) TAIL_AT4(i) TAIL_AT4(i + 4) TAIL_AT4(i + 8) TAIL_AT4(i + 12)

static __always_inline void stage_tail_call(void *ctx, void *banks, __u32 idx)
{
	_Static_assert(STAGE_PROG_ARRAY_SIZE == 32, "one case per bank slot");
	switch (idx) {
		TAIL_AT16(0)
		TAIL_AT16(16)
	}
}

/* the sender's tool, the metadata into skb->cb[], and the tail call into the hook's banks */
static __always_inline int skb_to_stage(struct __sk_buff *skb, __u8 hook, void *banks,
					struct pkt_meta *meta, __u32 tool_level,
					const struct gen_settings *gs)
{
	/* the socket's cgroup at the tools' level: processes nested below a tool are that tool */
	if (tool_level)
		meta->tool = dry_run ? dry_tool : bpf_skb_ancestor_cgroup_id(skb, tool_level);
	meta_store_skb(skb, meta);
	stage_tail_call(skb, banks, (__u32)meta->gen * STAGE_MAX_SLOTS + meta->slot);
	/* only reached when the slot is empty or the call failed: fail closed */
	return skb_finish(skb, hook, REASON_NO_STAGE, meta, gs->cfg);
}

/*
 * tc: host_side is a constant, 1 at host-side tc ingress (dispatch_tc_host),
 * where the dns stage may rewrite a query; 0 for the sandbox's own interface,
 * test runs and explain.
 */
static __always_inline int dispatch_tc_at(struct __sk_buff *skb, const int host_side)
{
	struct pkt_meta meta = {};
	__u32 len = skb->len, tool_level = 0, ifindex = skb->ifindex;
	struct gen_settings gs;
	struct l2_link *l2;
	int r;

	r = dispatch_begin(&gs, &tool_level);
	meta.gen = gs.gen;
	if (skb->vlan_present)
		return skb_finish(skb, HOOK_TC, REASON_VLAN, &meta, gs.cfg);
	if (r != PARSE_OK)
		return skb_finish(skb, HOOK_TC, r, &meta, gs.cfg);
	/* allowed for good by XDP in front of it, in this generation: judged and counted there */
	if (host_side && meta_xdp_passed(skb, gs.gen))
		return TC_ACT_UNSPEC;
	/* layer 2 where the sandbox's frames arrive: tc ingress of a host-side point */
	l2 = skb->ingress_ifindex == ifindex ? bpf_map_lookup_elem(&l2_links, &ifindex) : NULL;
	if (l2) {
		struct l2_frame f;

		l2_frame_skb(skb, len, &f);
		r = l2_judge(l2, &f);
		if (r != PARSE_OK)
			return skb_finish(skb, HOOK_TC, r, &meta, gs.cfg);
	}
	if ((__u64)(skb->data_end - skb->data) < len &&
	    (__u64)(skb->data_end - skb->data) < TC_PULL_LEN)
		bpf_skb_pull_data(skb, len < TC_PULL_LEN ? len : TC_PULL_LEN);

	r = dispatch_frame((void *)(long)skb->data, (void *)(long)skb->data_end, len, &gs, &meta);
	if (r != PARSE_OK)
		return skb_finish(skb, HOOK_TC, r, &meta, gs.cfg);
	skb->tc_classid = host_side ? TC_MARK_HOST_SIDE : 0;
	return skb_to_stage(skb, HOOK_TC, &stages_tc, &meta, tool_level, &gs);
}

SEC("tc")
int dispatch_tc(struct __sk_buff *skb)
{
	return dispatch_tc_at(skb, 0);
}

/* the same at host-side tc ingress (--tc-ingress): the one point that rewrites DNS ids */
SEC("tc")
int dispatch_tc_host(struct __sk_buff *skb)
{
	return dispatch_tc_at(skb, 1);
}

/*
 * XDP, at the host-side end of the sandbox's veth: the same parse and stages,
 * before an skb exists. There is no socket, so no tool: when the generation
 * has tool rules, the packet's tool is POLICY_TOOL_UNKNOWN, which matches
 * only the markers of tool rules (reason tool_deferred: tc ingress decides).
 */
SEC("xdp")
int dispatch_xdp(struct xdp_md *ctx)
{
	struct pkt_meta meta = {};
	__u32 tool_level = 0, ifindex = ctx->ingress_ifindex;
	struct gen_settings gs;
	struct l2_link *l2;
	int r;

	r = dispatch_begin(&gs, &tool_level);
	meta.gen = gs.gen;
	if (r != PARSE_OK)
		return xdp_verdict(ctx, r, 0, &meta, gs.cfg);
	l2 = bpf_map_lookup_elem(&l2_links, &ifindex);
	if (l2) {
		struct l2_frame f;

		l2_frame_xdp(ctx, (__u32)(ctx->data_end - ctx->data), &f);
		r = l2_judge(l2, &f);
		if (r != PARSE_OK)
			return xdp_verdict(ctx, r, 0, &meta, gs.cfg);
	}
	r = dispatch_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			   (__u32)(ctx->data_end - ctx->data), &gs, &meta);
	if (r != PARSE_OK)
		return xdp_verdict(ctx, r, 0, &meta, gs.cfg);
	if (tool_level)
		meta.tool = POLICY_TOOL_UNKNOWN;
	if (meta_store_xdp(ctx, &meta))
		return xdp_verdict(ctx, REASON_BAD_META, 0, &meta, gs.cfg);
	stage_tail_call(ctx, &stages_xdp, (__u32)meta.gen * STAGE_MAX_SLOTS + meta.slot);
	return xdp_verdict(ctx, REASON_NO_STAGE, 0, &meta, gs.cfg);
}

/*
 * cgroup_skb/egress: every packet a socket of the sandbox's cgroup sends, the
 * IP header first. Traffic to the sandbox itself (loopback, its own
 * addresses) stays inside it and is allowed.
 */
SEC("cgroup_skb/egress")
int dispatch_cgskb(struct __sk_buff *skb)
{
	struct pkt_meta meta = {};
	__u32 len = skb->len, tool_level = 0;
	struct cursor c = { .off = 0, .lim = len };
	struct gen_settings gs;
	int r;

	r = dispatch_begin(&gs, &tool_level);
	meta.gen = gs.gen;
	if (r != PARSE_OK)
		return skb_finish(skb, HOOK_CGSKB, r, &meta, gs.cfg);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	r = dispatch_ip(&c, c.pos, skb->protocol, &gs, 1, &meta);
	if (r != PARSE_OK)
		return skb_finish(skb, HOOK_CGSKB, r, &meta, gs.cfg);
	return skb_to_stage(skb, HOOK_CGSKB, &stages_cgskb, &meta, tool_level, &gs);
}

/*
 * Records the tool of every socket the sandbox creates, for the connect-time
 * hooks: always, so that a profile naming tools later, or a blocked instance
 * unblocked, still knows where each socket was made.
 */
SEC("cgroup/sock_create")
int sock_create_tool(struct bpf_sock *sk)
{
	__u32 tool_level = sandbox_tool_level();
	struct sock_state *st;

	if (!tool_level)
		return 1; /* sockets are not refused here: their traffic is */
	st = bpf_sk_storage_get(&sock_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st) {
		st->tool = bpf_get_current_ancestor_cgroup_id(tool_level);
		st->tool_known = 1;
	}
	return 1;
}

/*
 * connect() and sendto(): the destination as the caller gave it. v6 is a
 * constant: a connect4 program may not even read the IPv6 fields.
 */
static __always_inline int dispatch_sock_addr(struct bpf_sock_addr *ctx, void *banks, const int v6,
					      const __u8 hook)
{
	__u32 proto = CTX_READ(ctx->protocol);
	__u32 port = CTX_READ(ctx->user_port), tool_level = 0, d4 = 0, daddr[4] = {};
	struct pkt_meta meta = {};
	struct gen_settings gs;
	struct sock_state *st;
	int r;

	r = dispatch_begin(&gs, &tool_level);
	meta.gen = gs.gen;
	if (r != PARSE_OK)
		return sock_finish(hook, r, &meta, (const __u8 *)daddr, gs.cfg);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return sock_finish(hook, REASON_L4_PROTO, &meta, (const __u8 *)daddr, gs.cfg);
	if (!v6) {
		d4 = CTX_READ(ctx->user_ip4);
		meta.family = AF_INET;
	} else {
		__u32 w0 = CTX_READ(ctx->user_ip6[0]), w1 = CTX_READ(ctx->user_ip6[1]);
		__u32 w2 = CTX_READ(ctx->user_ip6[2]), w3 = CTX_READ(ctx->user_ip6[3]);

		if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0x0000ffff)) {
			d4 = w3; /* IPv4-mapped: the socket sends IPv4 */
			meta.family = AF_INET;
		} else {
			meta.family = AF_INET6;
			daddr[0] = w0;
			daddr[1] = w1;
			daddr[2] = w2;
			daddr[3] = w3;
		}
	}
	if (meta.family == AF_INET)
		daddr[0] = d4;
	/* the same test as the packets of this connection will get at cgroup_skb */
	if (addr_is_local(&gs, meta.family, (const __u8 *)daddr))
		return sock_finish(hook, REASON_LOOPBACK, &meta, (const __u8 *)daddr, gs.cfg);
	r = dispatch_class(gs.gen, proto, (__be16)port, &meta);
	if (r != PARSE_OK)
		return sock_finish(hook, r, &meta, (const __u8 *)daddr, gs.cfg);
	st = bpf_sk_storage_get(&sock_state, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return sock_finish(hook, REASON_NO_CONFIG, &meta, (const __u8 *)daddr, gs.cfg);
	/* a socket made before the install has no recorded tool: no tool's rights either */
	if (tool_level && st->tool_known)
		meta.tool = st->tool;
	st->meta = meta;
	bpf_tail_call(ctx, banks, (__u32)meta.gen * STAGE_MAX_SLOTS + meta.slot);
	return sock_finish(hook, REASON_NO_STAGE, &meta, (const __u8 *)daddr, gs.cfg);
}

SEC("cgroup/connect4")
int dispatch_connect4(struct bpf_sock_addr *ctx)
{
	return dispatch_sock_addr(ctx, &stages_connect4, 0, HOOK_CONNECT4);
}

SEC("cgroup/connect6")
int dispatch_connect6(struct bpf_sock_addr *ctx)
{
	return dispatch_sock_addr(ctx, &stages_connect6, 1, HOOK_CONNECT6);
}

SEC("cgroup/sendmsg4")
int dispatch_sendmsg4(struct bpf_sock_addr *ctx)
{
	return dispatch_sock_addr(ctx, &stages_sendmsg4, 0, HOOK_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int dispatch_sendmsg6(struct bpf_sock_addr *ctx)
{
	return dispatch_sock_addr(ctx, &stages_sendmsg6, 1, HOOK_SENDMSG6);
}

/*
 * Answers from the instance's resolvers, learned for the names that follow
 * DNS: at tc on the sandbox's link, towards the sandbox (learn_packet.h).
 * Never drops: it judges nothing.
 */
SEC("tc")
int learn_tc(struct __sk_buff *skb)
{
	struct gen_settings gs;

	if (dry_run || gen_settings_read(&gs))
		return TC_ACT_UNSPEC;
	if (learn_enabled(gs.cfg))
		learn_skb(skb, &gs);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
