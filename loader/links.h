/* links.h: the hooks an instance attaches to, and its BPF links (tcx and cgroup). */
#ifndef IRONCLAW_LINKS_H
#define IRONCLAW_LINKS_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include "hooks.h"

/* values from the kernel's uapi; Debian 12's linux-libc-dev 6.1 predates them */
#define TCX_ATTACH_INGRESS 46 /* BPF_TCX_INGRESS */
#define TCX_ATTACH_EGRESS 47 /* BPF_TCX_EGRESS */
#define TCX_F_BEFORE (1U << 3) /* BPF_F_BEFORE */
#define TCX_LINK_TYPE 11 /* BPF_LINK_TYPE_TCX */
#define CGROUP_LINK_TYPE 3 /* BPF_LINK_TYPE_CGROUP */

/* a hook kind's programs and prog array, by hook id (hooks.h); row 0 is empty */
struct hook_info {
	const char *label; /* in events, status and explain */
	const char *stage_prog; /* the program in every stage object */
	const char *banks; /* the dispatcher's prog array for it */
	const char *dispatcher; /* the dispatcher's program */
	enum hook_load load; /* when an install loads them */
	bool test_run; /* BPF_PROG_TEST_RUN runs it on a frame (explain's dry run) */
	bool at_sock; /* connect() or sendto(): no packet yet, its caller known */
};

extern const struct hook_info hooks[NR_HOOKS];

/* the label of a hook id from an event record; "?" for an unknown one */
const char *hook_label(unsigned int id);
/* a hook of connect() or sendto() (from an event record) */
bool hook_at_sock(unsigned int id);

/* what one link attaches: the links of no hook kind, then one per hook kind (for cgroups) */
enum link_hook {
	LINK_TC_INGRESS,
	LINK_TC_EGRESS,
	LINK_XDP, /* no BPF link: libxdp attaches xdp_entry; the pin holds that program */
	LINK_LEARN_EGRESS, /* learns DNS answers: tc egress of a --tc-ingress interface */
	LINK_LEARN_INGRESS, /* tc ingress of a --tc interface: no longer attached (the sandbox
			     * would see the ids the pipeline writes); an old pin is removed */
	LINK_SOCK_CREATE, /* marks the sockets of a cgroup with their tool */
	LINK_HOOK_BASE, /* LINK_HOOK_BASE + hook id: that hook at a cgroup */
	NR_LINK_HOOKS = LINK_HOOK_BASE + NR_HOOKS,
};

#define LINK_OF_HOOK(h) ((enum link_hook)(LINK_HOOK_BASE + (h)))

struct link_hook_info {
	const char *name; /* in pin names and status: no '-'; NULL: no such link */
	const char *dispatcher; /* the program attached */
	__u32 attach_type;
	bool cgroup; /* attached to a cgroup, else to an interface */
};

extern const struct link_hook_info link_hooks[NR_LINK_HOOKS];

struct link_state {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad0; /* the kernel's union is 8-byte aligned */
	union {
		struct {
			__u32 ifindex; /* 0 once the interface is gone */
			__u32 attach_type;
		} tcx;
		struct {
			__u64 cgroup_id; /* 0 once the cgroup is gone */
			__u32 attach_type;
		} cgroup;
		__u8 raw[64];
	};
};

/* attaches prog_fd first in the interface's tcx chain; link fd or -errno */
int link_tcx_attach(int prog_fd, int ifindex, bool ingress);
/* attaches prog_fd to a cgroup (multi-program: nothing below can override it) */
int link_cgroup_attach(int prog_fd, const char *cgroup_dir, __u32 attach_type);
/* 0 and the link's state, or -errno */
int link_state(int link_fd, struct link_state *st);
/* still attached to its interface or cgroup */
bool link_live(const struct link_state *st);

#endif
