/* pipeline_attach.c: attaching phase: tcx, XDP and cgroup links, moved to a new dispatcher or made. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "links.h"
#include "pipeline_attach.h"
#include "pipeline_tc.h"
#include "xdp.h"

static int dispatcher_prog(const struct txn *t, enum link_hook hook)
{
	struct bpf_program *p =
		bpf_object__find_program_by_name(t->skel->obj, link_hooks[hook].dispatcher);

	return p ? bpf_program__fd(p) : -ENOENT;
}

static int attach_hook(struct txn *t, const struct attach_point *pt, enum link_hook hook,
		       struct diag *d)
{
	int prog = dispatcher_prog(t, hook), saved, idx, fd;
	char path[CGROUP_PATH_MAX + 256], mnt[256];

	if (pt->kind == ATTACH_CGROUP) {
		if (cgroup2_mount(mnt, sizeof(mnt))) {
			diag_error(d, NULL, 0, "no cgroup v2 hierarchy is mounted");
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/%s", mnt, pt->cgroup);
		fd = link_cgroup_attach(prog, path, link_hooks[hook].attach_type);
		if (fd < 0)
			diag_error(d, NULL, 0, "cannot attach %s to cgroup %s: %s",
				   link_hooks[hook].name, path, strerror(-fd));
		return fd;
	}
	fd = netns_enter(pt->netns, &saved, d);
	if (fd)
		return fd;
	idx = netns_ifindex(pt->ifname);
	if (idx < 0) {
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
		fd = idx;
	} else if (pt->kind == ATTACH_XDP) {
		fd = xdp_entry_attach(idx, t->xdp_map, pt->ifname, t->xdp_generic, d);
	} else {
		bool ingress = link_hooks[hook].attach_type == TCX_ATTACH_INGRESS;

		fd = link_tcx_attach(prog, idx, ingress);
		if (fd < 0)
			diag_error(d, NULL, 0,
				   "cannot attach %s to %s of '%s' (tcx needs kernel >= 6.6): %s",
				   link_hooks[hook].dispatcher,
				   ingress ? "tc ingress" : "tc egress", pt->ifname, strerror(-fd));
	}
	netns_leave(saved);
	return fd;
}

/* the pinned link still has its interface or cgroup; a classic filter, its place */
static bool link_pin_live(const char *name, const char *pin, const char *path)
{
	struct attach_point pt;
	enum link_hook hook;
	struct link_state st;
	int fd;
	bool live;

	if (txn_tc_is_classic(name, pin))
		return !pin_parse_link(pin, &pt, &hook) &&
		       tc_filter_live(name, pin, &pt, tc_hook_ingress(hook), NULL);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	live = !link_state(fd, &st) && link_live(&st);
	close(fd);
	return live;
}

static int remember_new_link(struct txn *t, int fd, const char *path)
{
	int *l = realloc(t->new_links, (t->nr_new_links + 1) * sizeof(*l));
	char(*p)[PIN_PATH_MAX];

	if (!l)
		return -ENOMEM;
	t->new_links = l;
	p = realloc(t->new_link_pins, (t->nr_new_links + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->new_link_pins = p;
	t->new_links[t->nr_new_links] = fd;
	snprintf(t->new_link_pins[t->nr_new_links++], PIN_PATH_MAX, "%s", path);
	return 0;
}

/* an XDP attachment (no link: it stays until detached), to detach on a rollback */
static int remember_new_xdp(struct txn *t, const struct attach_point *pt, int prog_fd)
{
	struct attach_point *p = realloc(t->xdp_new, (t->nr_xdp_new + 1) * sizeof(*p));
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), *ids;

	if (!p)
		return -ENOMEM;
	t->xdp_new = p;
	ids = realloc(t->xdp_new_ids, (t->nr_xdp_new + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	t->xdp_new_ids = ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	t->xdp_new[t->nr_xdp_new] = *pt;
	t->xdp_new_ids[t->nr_xdp_new++] = info.id;
	return 0;
}

/* 0 when prog_id is no longer attached at the point (or the interface is gone) */
int attach_xdp_detach(const struct attach_point *pt, __u32 prog_id)
{
	struct diag d = {};
	int saved, idx, err;

	err = netns_enter(pt->netns, &saved, &d);
	if (!err) {
		idx = netns_ifindex(pt->ifname);
		if (idx > 0)
			err = xdp_entry_detach(idx, prog_id);
		netns_leave(saved);
	}
	diag_free(&d);
	return err == -ENOENT ? 0 : err; /* the namespace is gone, and the interface with it */
}

/*
 * xdp_dispatch[0] := the new XDP dispatcher (before the flip, like the links:
 * it reads the control word itself). Creates the map for the first XDP point.
 */
int txn_update_xdp_dispatch(struct txn *t, const char *name, struct diag *d)
{
	int prog = bpf_program__fd(t->skel->progs.dispatch_xdp);
	__u32 zero = 0, old_id = 0;

	t->xdp_map = pins_get(name, "xdp_dispatch");
	if (t->xdp_map < 0) {
		t->xdp_map = xdp_dispatch_map_create();
		t->xdp_map_new = true;
	}
	if (t->xdp_map < 0) {
		diag_error(d, NULL, 0, "cannot create the XDP dispatch map: %s",
			   strerror(-t->xdp_map));
		return t->xdp_map;
	}
	if (!t->xdp_map_new && !bpf_map_lookup_elem(t->xdp_map, &zero, &old_id))
		t->xdp_old_dispatcher = bpf_prog_get_fd_by_id(old_id);
	if (bpf_map_update_elem(t->xdp_map, &zero, &prog, BPF_ANY)) {
		diag_error(d, NULL, 0, "cannot put the XDP dispatcher in place: %s",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

/* attaches the points no live link of this instance covers yet */
int txn_attach_new_points(struct txn *t, const struct install_req *rq, struct diag *d)
{
	char why[160];

	if (tc_attach_mode(&t->tc_mode, why, sizeof(why))) {
		diag_error(d, NULL, 0, "%s", why);
		return -EINVAL;
	}
	for (size_t i = 0; i < rq->nr_points; i++) {
		enum link_hook hooks[ATTACH_MAX_HOOKS];
		size_t nh = attach_point_hooks(&rq->points[i], hooks);

		for (size_t hi = 0; hi < nh; hi++) {
			enum link_hook h = hooks[hi];
			char pin[PIN_NAME_MAX], path[PIN_PATH_MAX];
			struct stat sb;
			int fd, err;

			pin_name_link(pin, sizeof(pin), &rq->points[i], h);
			if (!pin[0]) {
				diag_error(d, NULL, 0,
					   "cgroup path '%s' is too long to name its pin",
					   rq->points[i].cgroup);
				return -ENAMETOOLONG;
			}
			snprintf(path, sizeof(path), "%s/%s", t->dir, pin);
			if (h == LINK_XDP && !stat(path, &sb)) {
				__u32 id;

				if (xdp_pin_state(rq->name, pin, &rq->points[i], &id, NULL, NULL) !=
				    XDP_HOW_NONE)
					continue; /* attached; xdp_dispatch holds the new dispatcher */
			} else if (!stat(path, &sb) && link_pin_live(rq->name, pin, path)) {
				continue; /* already attached there; moved to the new dispatcher */
			}
			unlink(path); /* a pin of a link whose interface is gone: attach anew */
			if (t->tc_mode == TC_ATTACH_CLASSIC && !link_hooks[h].cgroup &&
			    h != LINK_XDP)
				fd = txn_tc_attach(t, rq->name, pin, &rq->points[i], h,
						   dispatcher_prog(t, h), d);
			else
				fd = attach_hook(t, &rq->points[i], h, d);
			if (fd < 0)
				return fd;
			if (h == LINK_XDP) {
				err = remember_new_xdp(t, &rq->points[i], fd);
				if (err) {
					/* not on the rollback's list: detach it here */
					struct bpf_prog_info info = {};
					__u32 len = sizeof(info);

					if (!bpf_obj_get_info_by_fd(fd, &info, &len))
						attach_xdp_detach(&rq->points[i], info.id);
					close(fd);
					return err;
				}
			}
			err = remember_new_link(t, fd, path);
			if (err) {
				close(fd);
				return err;
			}
			if (bpf_obj_pin(fd, path)) {
				diag_error(d, NULL, 0, "cannot pin %s: %s", path, strerror(errno));
				t->new_link_pins[t->nr_new_links - 1][0] = '\0';
				return -errno;
			}
		}
	}
	return 0;
}

/* moves every live link of the instance to the new dispatcher; drops links whose target is gone */
int txn_update_links(struct txn *t, const char *name, struct diag *d)
{
	struct dirent *de;
	DIR *dir = opendir(t->dir);
	int err = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct attach_point pt;
		enum link_hook hook;
		struct link_state st;
		int fd, *u, *o;

		if (pin_parse_link(de->d_name, &pt, &hook) || hook == LINK_XDP)
			continue; /* XDP: xdp_dispatch moves to the new dispatcher */
		fd = pins_get(name, de->d_name);
		if (fd < 0)
			continue;
		if (txn_tc_is_classic(name, de->d_name)) {
			close(fd);
			err = txn_tc_move(t, name, de->d_name, &pt, hook, dispatcher_prog(t, hook),
					  d);
			if (err)
				break;
			continue;
		}
		if (hook == LINK_LEARN_INGRESS) {
			char path[PIN_PATH_MAX];

			/* an install before ids were rewritten learned inside the sandbox: no more */
			snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
			bpf_link_detach(fd);
			unlink(path);
			close(fd);
			continue;
		}
		if (link_state(fd, &st) || !link_live(&st)) {
			char path[PIN_PATH_MAX];

			diag_warn(d, NULL, 0,
				  "attachment %s was lost (its target is gone); removed",
				  de->d_name + strlen(PIN_LINK_PREFIX));
			snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
			unlink(path);
			close(fd);
			continue;
		}
		u = realloc(t->updated_links, (t->nr_updated + 1) * sizeof(int));
		o = u ? realloc(t->updated_old_progs, (t->nr_updated + 1) * sizeof(int)) : NULL;
		if (u)
			t->updated_links = u;
		if (o)
			t->updated_old_progs = o;
		if (!u || !o) {
			close(fd);
			err = -ENOMEM;
			break;
		}
		if (bpf_link_update(fd, dispatcher_prog(t, hook), NULL)) {
			err = -errno;
			diag_error(d, NULL, 0,
				   "cannot move attachment %s to the new dispatcher: %s",
				   de->d_name + strlen(PIN_LINK_PREFIX), strerror(errno));
			close(fd);
			break;
		}
		t->updated_links[t->nr_updated] = fd;
		t->updated_old_progs[t->nr_updated++] = bpf_prog_get_fd_by_id(st.prog_id);
	}
	closedir(dir);
	return err;
}

/* the attach points of the install and the instance's links; count, at most max */
size_t txn_all_points(const char *dir, const struct install_req *rq, struct attach_point *out,
		      size_t max)
{
	enum link_hook hook;
	struct dirent *de;
	size_t n = 0;
	DIR *dd;

	for (size_t i = 0; i < rq->nr_points && n < max; i++)
		out[n++] = rq->points[i];
	dd = opendir(dir);
	while (dd && n < max && (de = readdir(dd)))
		n += !pin_parse_link(de->d_name, &out[n], &hook);
	if (dd)
		closedir(dd);
	return n;
}

/*
 * XDP needs tc ingress on the same interface. A VLAN tag that a veth (or a
 * NIC with VLAN offload) carries beside the frame, in the skb's metadata, is
 * not in the bytes XDP reads; only tc sees it (skb->vlan_present), and the
 * kernel's VLAN hint is only for device-bound programs, which cannot sit in
 * a prog array. XDP knows no tool either: with tool rules, tc ingress decides
 * what only a tool rule allows (tool_deferred), and XDP must be in skb mode,
 * which leaves the packet its socket for tc ingress to read.
 */
int txn_xdp_covered(const struct attach_point *p, size_t n, const struct install_req *rq,
		    struct diag *d)
{
	for (size_t i = 0; i < n; i++) {
		char pin[PIN_NAME_MAX];
		bool covered = false, generic;
		__u32 id;

		if (p[i].kind != ATTACH_XDP)
			continue;
		pin_name_link(pin, sizeof(pin), &p[i], LINK_XDP);
		if (rq->has_tools &&
		    xdp_pin_state(rq->name, pin, &p[i], &id, NULL, &generic) != XDP_HOW_NONE &&
		    !generic) {
			diag_error(d, NULL, 0,
				   "--xdp %s is attached in native mode, where a veth hands the "
				   "packet on without its socket, and the profile has rules for "
				   "tools, which need it: block, uninstall and install again (XDP "
				   "then goes in skb mode)",
				   p[i].ifname);
			return -EINVAL;
		}
		for (size_t j = 0; j < n; j++)
			covered |= p[j].kind == ATTACH_TC_INGRESS &&
				   !strcmp(p[j].ifname, p[i].ifname) &&
				   !strcmp(p[j].netns, p[i].netns);
		if (covered)
			continue;
		if (rq->has_tools)
			diag_error(d, NULL, 0,
				   "--xdp %s: XDP sees no socket, so no tool, and the profile has "
				   "rules for tools: add --tc-ingress %s%s%s to enforce them",
				   p[i].ifname, p[i].ifname, p[i].netns[0] ? "@" : "", p[i].netns);
		else
			diag_error(d, NULL, 0,
				   "--xdp %s: XDP does not see a VLAN tag that the link carries "
				   "beside the frame: add --tc-ingress %s%s%s, which denies tagged "
				   "frames (reason vlan)",
				   p[i].ifname, p[i].ifname, p[i].netns[0] ? "@" : "", p[i].netns);
		return -EINVAL;
	}
	return 0;
}
