/* links.c: the hooks an instance attaches to, and its BPF links (tcx and cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "links.h"

const struct stage_hook_info stage_hooks[NR_STAGE_HOOKS] = {
	[STAGE_HOOK_TC] = { "stage_tc", "stages_tc" },
	[STAGE_HOOK_CGSKB] = { "stage_cgskb", "stages_cgskb" },
	[STAGE_HOOK_CONNECT4] = { "stage_connect4", "stages_connect4" },
	[STAGE_HOOK_CONNECT6] = { "stage_connect6", "stages_connect6" },
	[STAGE_HOOK_SENDMSG4] = { "stage_sendmsg4", "stages_sendmsg4" },
	[STAGE_HOOK_SENDMSG6] = { "stage_sendmsg6", "stages_sendmsg6" },
	[STAGE_HOOK_XDP] = { "stage_xdp", "stages_xdp" },
};

const struct link_hook_info link_hooks[NR_LINK_HOOKS] = {
	[LINK_TC_INGRESS] = { "tc_ingress", "dispatch_tc", TCX_ATTACH_INGRESS },
	[LINK_TC_EGRESS] = { "tc_egress", "dispatch_tc", TCX_ATTACH_EGRESS },
	[LINK_XDP] = { "xdp", "dispatch_xdp", BPF_XDP },
	[LINK_LEARN_EGRESS] = { "learn_egress", "learn_tc", TCX_ATTACH_EGRESS },
	[LINK_LEARN_INGRESS] = { "learn_ingress", "learn_tc", TCX_ATTACH_INGRESS },
	[LINK_CG_EGRESS] = { "cgroup_egress", "dispatch_cgskb", BPF_CGROUP_INET_EGRESS },
	[LINK_SOCK_CREATE] = { "sock_create", "sock_create_tool", BPF_CGROUP_INET_SOCK_CREATE },
	[LINK_CONNECT4] = { "connect4", "dispatch_connect4", BPF_CGROUP_INET4_CONNECT },
	[LINK_CONNECT6] = { "connect6", "dispatch_connect6", BPF_CGROUP_INET6_CONNECT },
	[LINK_SENDMSG4] = { "sendmsg4", "dispatch_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	[LINK_SENDMSG6] = { "sendmsg6", "dispatch_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
};

int link_tcx_attach(int prog_fd, int ifindex, bool ingress)
{
	/* BPF_F_BEFORE with no relative program: first in the chain, so no
	 * program attached earlier can pass a packet before we judge it */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = TCX_F_BEFORE);
	int fd;

	fd = bpf_link_create(prog_fd, ifindex,
			     (enum bpf_attach_type)(ingress ? TCX_ATTACH_INGRESS : TCX_ATTACH_EGRESS),
			     &opts);
	return fd < 0 ? -errno : fd;
}

int link_cgroup_attach(int prog_fd, const char *cgroup_dir, __u32 attach_type)
{
	int cg, fd;

	cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	/* a link is always multi-program: programs below add checks, never remove ours */
	fd = bpf_link_create(prog_fd, cg, (enum bpf_attach_type)attach_type, NULL);
	fd = fd < 0 ? -errno : fd;
	close(cg);
	return fd;
}

int link_state(int link_fd, struct link_state *st)
{
	__u32 len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (bpf_obj_get_info_by_fd(link_fd, st, &len))
		return -errno;
	return st->type == TCX_LINK_TYPE || st->type == CGROUP_LINK_TYPE ? 0 : -EINVAL;
}

bool link_live(const struct link_state *st)
{
	if (st->type == TCX_LINK_TYPE)
		return st->tcx.ifindex != 0;
	return st->type == CGROUP_LINK_TYPE && st->cgroup.cgroup_id != 0;
}
