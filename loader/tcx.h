/* tcx.h: tcx links (kernel >= 6.6) through libbpf 1.1's generic bpf_link_create(). */
#ifndef IRONCLAW_TCX_H
#define IRONCLAW_TCX_H

#include <stdbool.h>
#include <linux/types.h>

/* values from the kernel's uapi; Debian 12's linux-libc-dev 6.1 predates them */
#define TCX_ATTACH_INGRESS 46 /* BPF_TCX_INGRESS */
#define TCX_ATTACH_EGRESS 47 /* BPF_TCX_EGRESS */
#define TCX_F_BEFORE (1U << 3) /* BPF_F_BEFORE */
#define TCX_LINK_TYPE 11 /* BPF_LINK_TYPE_TCX */

struct tcx_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad0; /* the kernel's union is 8-byte aligned */
	__u32 ifindex; /* 0 once the interface is gone */
	__u32 attach_type;
	__u32 pad[12];
};

/* attaches prog_fd first in the interface's tcx chain; link fd or -errno */
int tcx_attach(int prog_fd, int ifindex, bool ingress);
/* 0 and the link's state, or -errno */
int tcx_link_info(int link_fd, struct tcx_link_info *info);

#endif
