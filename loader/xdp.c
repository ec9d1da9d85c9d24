/* xdp.c: the pipeline at XDP, attached through libxdp (its dispatcher, or one program alone). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "attach.h"
#include "pins.h"
#include "xdp.h"
#include "xdp_entry.skel.h"

static bool xdp_verbose;

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level; /* its fallback to one program warns; expected, so shown with -v only */
	if (!xdp_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void xdp_set_verbose(bool verbose)
{
	xdp_verbose = verbose;
	libxdp_set_print(libxdp_print);
}

/*
 * libxdp makes a directory in bpffs for its dispatcher's pins (and its lock)
 * at every attach and detach, and leaves it: remove it while it is empty.
 */
static void libxdp_dir_tidy(void)
{
	const char *root = getenv("LIBXDP_BPFFS");
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/xdp", root && root[0] ? root : "/sys/fs/bpf");
	rmdir(dir); /* fails, harmlessly, when libxdp's dispatcher has pins there */
}

int xdp_dispatch_map_create(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "xdp_dispatch", sizeof(__u32),
				sizeof(__u32), 1, NULL);

	return fd < 0 ? -errno : fd;
}

int xdp_entry_attach(int ifindex, int dispatch_map, const char *ifname, bool generic,
		     struct diag *d)
{
	struct xdp_entry *skel = xdp_entry__open();
	struct xdp_program *prog = NULL;
	int err, fd = -1;

	libxdp_set_print(libxdp_print);
	if (!skel) {
		diag_error(d, NULL, 0, "cannot open the XDP entry program: %s", strerror(errno));
		return -errno;
	}
	err = bpf_map__reuse_fd(skel->maps.xdp_dispatch, dispatch_map);
	if (!err) {
		prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
		err = libxdp_get_error(prog);
		if (err)
			prog = NULL;
	}
	/* libxdp tries its dispatcher first, then falls back to this program alone; the
	 * refused dispatcher makes libbpf complain, which only -v shows */
	if (!err) {
		libbpf_print_fn_t prev = libbpf_set_print(NULL);

		if (xdp_verbose)
			libbpf_set_print(prev);
		err = xdp_program__attach(prog, ifindex, generic ? XDP_MODE_SKB : XDP_MODE_NATIVE,
					  0);
		libbpf_set_print(prev);
	}
	if (err == -EBUSY || err == -EEXIST) {
		diag_error(d, NULL, 0,
			   "cannot attach at XDP of '%s': another XDP program is attached there "
			   "(see 'ip link show %s'); libxdp will not replace it",
			   ifname, ifname);
	} else if (err) {
		diag_error(d, NULL, 0, "cannot attach at XDP of '%s' through libxdp: %s", ifname,
			   strerror(-err));
	} else {
		fd = dup(xdp_program__fd(prog));
		if (fd < 0) {
			err = -errno;
			xdp_program__detach(prog, ifindex, generic ? XDP_MODE_SKB : XDP_MODE_NATIVE,
					    0);
		}
	}
	xdp_program__close(prog);
	xdp_entry__destroy(skel);
	libxdp_dir_tidy();
	return err ? err : fd;
}

enum xdp_attach_how xdp_entry_state(int ifindex, __u32 prog_id, bool *generic)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	enum xdp_attach_how how = XDP_HOW_NONE;
	struct xdp_program *p;

	if (generic)
		*generic = false;
	if (libxdp_get_error(mp))
		return XDP_HOW_NONE;
	if (generic)
		*generic = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && xdp_program__id(p) == prog_id)
			how = XDP_HOW_SINGLE;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (xdp_program__id(p) == prog_id)
				how = XDP_HOW_DISPATCHER;
	}
	xdp_multiprog__close(mp);
	return how;
}

int xdp_entry_detach(int ifindex, __u32 prog_id)
{
	struct xdp_program *p;
	bool generic;
	int err;

	if (xdp_entry_state(ifindex, prog_id, &generic) == XDP_HOW_NONE)
		return 0;
	p = xdp_program__from_id(prog_id);
	err = libxdp_get_error(p);
	if (err)
		return err;
	err = xdp_program__detach(p, ifindex, generic ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	xdp_program__close(p);
	libxdp_dir_tidy();
	return err;
}

const char *xdp_how_name(enum xdp_attach_how how)
{
	switch (how) {
	case XDP_HOW_SINGLE:
		return "libxdp single program (its dispatcher was refused)";
	case XDP_HOW_DISPATCHER:
		return "libxdp dispatcher";
	default:
		return "not attached";
	}
}

enum xdp_attach_how xdp_pin_state(const char *name, const char *pin, const struct attach_point *pt,
				  __u32 *prog_id, int *ifindex, bool *generic)
{
	struct bpf_prog_info info = {};
	enum xdp_attach_how how = XDP_HOW_NONE;
	__u32 len = sizeof(info);
	struct diag d = {};
	int fd = pins_get(name, pin), saved, idx = -1;

	*prog_id = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		*prog_id = info.id;
	if (fd >= 0)
		close(fd);
	if (*prog_id && !netns_enter(pt->netns, &saved, &d)) {
		idx = netns_ifindex(pt->ifname);
		if (idx > 0)
			how = xdp_entry_state(idx, *prog_id, generic);
		netns_leave(saved);
	}
	diag_free(&d);
	if (ifindex)
		*ifindex = idx;
	return how;
}
