/* pipeline_l2.c: the l2_links map: each host-side point's layer-2 settings, refreshed from the host side. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "install_req.h"
#include "l2link.h"
#include "pins.h"
#include "pipeline_attach.h"
#include "pipeline_l2.h"
#include "state.h"

int l2_entries_read(const struct attach_point *pts, size_t n, const struct addr *gw, size_t nr_gw,
		    struct l2_entry *out, size_t max, struct diag *d)
{
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		struct l2_entry e;
		bool seen = false;
		int err;

		if (pts[i].kind != ATTACH_TC_INGRESS && pts[i].kind != ATTACH_XDP)
			continue;
		err = l2link_read(&pts[i], gw, nr_gw, &e.ifindex, &e.link, d);
		if (err)
			return err;
		for (size_t j = 0; j < nr; j++)
			seen |= out[j].ifindex == e.ifindex;
		if (seen)
			continue; /* --tc-ingress and --xdp on one interface */
		if (nr == max) {
			diag_error(d, NULL, 0, "more than %zu host-side interfaces", max);
			return -E2BIG;
		}
		out[nr++] = e;
	}
	return nr;
}

int l2_entries_write(int fd, const struct l2_entry *e, size_t n, struct diag *d)
{
	__u32 key, next, stale[L2_MAX_LINKS];
	size_t nr_stale = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &e[i].ifindex, &e[i].link, BPF_ANY)) {
			err = -errno;
			diag_error(d, NULL, 0,
				   "cannot write the layer-2 settings of ifindex %u: %s",
				   e[i].ifindex, strerror(-err));
			return err;
		}
	}
	/* an interface no longer attached keeps nothing */
	for (int r = bpf_map_get_next_key(fd, NULL, &next); !r && nr_stale < L2_MAX_LINKS;
	     r = bpf_map_get_next_key(fd, &key, &next)) {
		bool keep = false;

		key = next;
		for (size_t i = 0; i < n; i++)
			keep |= e[i].ifindex == key;
		if (!keep)
			stale[nr_stale++] = key;
	}
	for (size_t i = 0; i < nr_stale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	return 0;
}

int pipeline_refresh_l2(const char *name, const struct addr *gw, size_t nr_gw, struct diag *d)
{
	struct attach_point pts[PIPELINE_MAX_LINKS];
	struct l2_entry e[L2_MAX_LINKS];
	struct install_req none = { .name = name };
	char dir[STATE_PATH_MAX];
	int fd, n, err;

	err = state_pin_path(dir, sizeof(dir), name, NULL);
	if (err)
		return err;
	n = txn_all_points(dir, &none, pts, PIPELINE_MAX_LINKS);
	n = l2_entries_read(pts, n, gw, nr_gw, e, L2_MAX_LINKS, d);
	if (n < 0)
		return n;
	fd = pins_get(name, "l2_links");
	if (fd < 0) {
		diag_error(d, NULL, 0,
			   "instance '%s' has no layer-2 map (installed by an earlier build): "
			   "install it again",
			   name);
		return fd;
	}
	err = l2_entries_write(fd, e, n, d);
	close(fd);
	return err;
}
