/* links.c: the hooks an instance attaches to, and its BPF links (tcx and cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "links.h"

/* the entry kinds BPF_PROG_TEST_RUN can run on a frame */
#define HOOK_TEST_RUN_SKB true
#define HOOK_TEST_RUN_XDP true
#define HOOK_TEST_RUN_SOCK4 false
#define HOOK_TEST_RUN_SOCK6 false
#define HOOK_AT_SOCK_SKB false
#define HOOK_AT_SOCK_XDP false
#define HOOK_AT_SOCK_SOCK4 true
#define HOOK_AT_SOCK_SOCK6 true

#define HOOK_INFO_ROW(ID, name, label, sec, entry, load, link, cgtype)                             \
	[HOOK_##ID] = { label,                                                                     \
			"stage_" #name,                                                            \
			"stages_" #name,                                                           \
			"dispatch_" #name,                                                         \
			HOOK_LOAD_##load,                                                          \
			HOOK_TEST_RUN_##entry,                                                     \
			HOOK_AT_SOCK_##entry },
const struct hook_info hooks[NR_HOOKS] = { HOOK_TABLE(HOOK_INFO_ROW) };

const char *hook_label(unsigned int id)
{
	return id >= HOOK_FIRST && id < NR_HOOKS ? hooks[id].label : "?";
}

bool hook_at_sock(unsigned int id)
{
	return id >= HOOK_FIRST && id < NR_HOOKS && hooks[id].at_sock;
}

/* every hook kind loaded with a cgroup attaches there with a link of its own */
#define HOOK_LINK_ROW(ID, name, label, sec, entry, load, link, cgtype)                             \
	[LINK_OF_HOOK(HOOK_##ID)] = { HOOK_LOAD_##load == HOOK_LOAD_CGROUP ? link : NULL,          \
				      "dispatch_" #name, cgtype, true },
const struct link_hook_info link_hooks[NR_LINK_HOOKS] = {
	[LINK_TC_INGRESS] = { "tc_ingress", "dispatch_tc_host", TCX_ATTACH_INGRESS, false },
	[LINK_TC_EGRESS] = { "tc_egress", "dispatch_tc", TCX_ATTACH_EGRESS, false },
	[LINK_XDP] = { "xdp", "dispatch_xdp", BPF_XDP, false },
	[LINK_LEARN_EGRESS] = { "learn_egress", "learn_tc", TCX_ATTACH_EGRESS, false },
	[LINK_LEARN_INGRESS] = { "learn_ingress", "learn_tc", TCX_ATTACH_INGRESS, false },
	[LINK_SOCK_CREATE] = { "sock_create", "sock_create_tool", BPF_CGROUP_INET_SOCK_CREATE,
			       true },
	HOOK_TABLE(HOOK_LINK_ROW)
};

int link_tcx_attach(int prog_fd, int ifindex, bool ingress)
{
	/* BPF_F_BEFORE with no relative program: first in the chain, so no
	 * program attached earlier can pass a packet before we judge it */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = TCX_F_BEFORE);
	int fd;

	fd = bpf_link_create(
		prog_fd, ifindex,
		(enum bpf_attach_type)(ingress ? TCX_ATTACH_INGRESS : TCX_ATTACH_EGRESS), &opts);
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
