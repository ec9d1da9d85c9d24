/* hooks.h: the one table of the hooks a pipeline runs at; BPF and the loader both derive from it. */
#ifndef IRONCLAW_HOOKS_H
#define IRONCLAW_HOOKS_H

/*
 * One row per hook kind. Each hook kind has its own dispatcher program
 * (dispatch_<name>), its own prog array of stage banks (stages_<name>) and a
 * program of that type in every stage object (stage_<name>).
 *
 *   ID     HOOK_<ID>, the hook's number (also the 'hook' of an event record)
 *   name   the C name the programs and the prog array are named after
 *   label  what status, log and explain print
 *   sec    the ELF section of the stage program (its program and attach type)
 *   entry  the kind of entry point: SKB (__sk_buff), XDP (xdp_md),
 *          SOCK4 or SOCK6 (bpf_sock_addr, IPv4 or IPv6 callers)
 *   load   when an install loads it: ALWAYS, CGROUP (a cgroup is attached),
 *          XDP (an XDP point is attached)
 *   link   the name of its link pins, for the hooks attached to a cgroup
 *          ("" for tc and XDP: their links are named by direction)
 *   cgtype the cgroup attach type (enum bpf_attach_type), 0 for tc and XDP
 *
 * A new hook is one row here plus its dispatcher entry function.
 * Append only: the numbers are stored in events.
 */
#define HOOK_TABLE(X)                                                                              \
	X(TC, tc, "tc", "tc", SKB, ALWAYS, "", 0)                                                  \
	X(CGSKB, cgskb, "cgroup_skb", "cgroup_skb/egress", SKB, CGROUP, "cgroup_egress",           \
	  BPF_CGROUP_INET_EGRESS)                                                                  \
	X(CONNECT4, connect4, "connect4", "cgroup/connect4", SOCK4, CGROUP, "connect4",            \
	  BPF_CGROUP_INET4_CONNECT)                                                                \
	X(CONNECT6, connect6, "connect6", "cgroup/connect6", SOCK6, CGROUP, "connect6",            \
	  BPF_CGROUP_INET6_CONNECT)                                                                \
	X(SENDMSG4, sendmsg4, "sendmsg4", "cgroup/sendmsg4", SOCK4, CGROUP, "sendmsg4",            \
	  BPF_CGROUP_UDP4_SENDMSG)                                                                 \
	X(SENDMSG6, sendmsg6, "sendmsg6", "cgroup/sendmsg6", SOCK6, CGROUP, "sendmsg6",            \
	  BPF_CGROUP_UDP6_SENDMSG)                                                                 \
	X(XDP, xdp, "xdp", "xdp", XDP, XDP, "", 0)

#define HOOK_ENUM_ROW(ID, name, label, sec, entry, load, link, cgtype) HOOK_##ID,
enum hook_id {
	HOOK_NONE = 0, /* an event the dispatcher of no hook made */
	HOOK_TABLE(HOOK_ENUM_ROW) NR_HOOKS,
};
#undef HOOK_ENUM_ROW

#define HOOK_FIRST HOOK_TC

/* when a hook's programs are loaded */
enum hook_load {
	HOOK_LOAD_ALWAYS, /* the tc programs: status, explain and the tests use them */
	HOOK_LOAD_CGROUP,
	HOOK_LOAD_XDP,
};

#endif
