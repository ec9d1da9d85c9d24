/* tcx.c: tcx links through libbpf 1.1's generic bpf_link_create(). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <bpf/bpf.h>
#include "tcx.h"

int tcx_attach(int prog_fd, int ifindex, bool ingress)
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

int tcx_link_info(int link_fd, struct tcx_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(link_fd, info, &len))
		return -errno;
	return info->type == TCX_LINK_TYPE ? 0 : -EINVAL;
}
