/* tc_classic.c: tc without tcx: a clsact qdisc and a direct-action bpf filter, through netlink. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "links.h"
#include "netns.h"
#include "pins.h"
#include "state.h"
#include "tc_classic.h"

/*
 * A program of two instructions (r0 = TC_ACT_UNSPEC; exit) linked at tcx
 * ingress of ifindex 0: a kernel with tcx looks for the interface (ENODEV),
 * one without refuses the attach type (EINVAL). Nothing is attached either way.
 */
static int tcx_probe(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int prog, link, err;

	prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tcx_probe", "GPL", insns, 2, NULL);
	if (prog < 0)
		return -errno;
	link = bpf_link_create(prog, 0, (enum bpf_attach_type)TCX_ATTACH_INGRESS, NULL);
	err = link < 0 ? -errno : 0;
	if (link >= 0)
		close(link);
	close(prog);
	return err;
}

bool tc_tcx_supported(void)
{
	static int known = -1;

	if (known < 0)
		known = tcx_probe() != -EINVAL;
	return known;
}

int tc_attach_mode(enum tc_attach_mode *mode, char *why, size_t len)
{
	const char *env = getenv(TC_ATTACH_ENV);

	if (!env || !env[0]) {
		*mode = tc_tcx_supported() ? TC_ATTACH_TCX : TC_ATTACH_CLASSIC;
		return 0;
	}
	if (!strcmp(env, "classic")) {
		*mode = TC_ATTACH_CLASSIC;
		return 0;
	}
	if (strcmp(env, "tcx")) {
		if (why)
			snprintf(why, len, "%s=%s: give tcx or classic (or leave it unset)",
				 TC_ATTACH_ENV, env);
		return -EINVAL;
	}
	*mode = TC_ATTACH_TCX;
	if (tc_tcx_supported())
		return 0;
	if (why)
		snprintf(why, len,
			 "%s=tcx: this kernel has no tcx links (6.6 or later); unset it to "
			 "attach with classic tc",
			 TC_ATTACH_ENV);
	return -EOPNOTSUPP;
}

/* the record of a filter: a pinned array of one struct tc_filter beside its program's pin */
static int record_path(char *buf, size_t len, const char *name, const char *pin)
{
	char rec[PIN_NAME_MAX + sizeof(TC_FILTER_PREFIX)];

	snprintf(rec, sizeof(rec), "%s%s", TC_FILTER_PREFIX, pin);
	return state_pin_path(buf, len, name, rec);
}

int tc_filter_read(const char *name, const char *pin, struct tc_filter *f)
{
	char path[STATE_PATH_MAX];
	__u32 zero = 0;
	int fd, err = 0;

	memset(f, 0, sizeof(*f));
	if (record_path(path, sizeof(path), name, pin))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, f))
		err = -errno;
	close(fd);
	return err;
}

static int tc_filter_write(const char *name, const char *pin, const struct tc_filter *f)
{
	char path[STATE_PATH_MAX];
	__u32 zero = 0;
	int fd, err = 0;

	if (record_path(path, sizeof(path), name, pin))
		return -ENAMETOOLONG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tc_filter", sizeof(zero), sizeof(*f), 1, NULL);
	if (fd < 0)
		return -errno;
	unlink(path); /* the record of a filter lost before */
	if (bpf_map_update_elem(fd, &zero, f, BPF_ANY) || bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err;
}

void tc_filter_forget(const char *name, const char *pin)
{
	char path[STATE_PATH_MAX];

	if (!record_path(path, sizeof(path), name, pin))
		unlink(path);
}

/* another filter of the instance on the same interface made the clsact qdisc */
static bool qdisc_made_by_instance(const char *name, const struct attach_point *pt)
{
	size_t plen = strlen(TC_FILTER_PREFIX);
	char dir[STATE_PATH_MAX];
	struct attach_point other;
	enum link_hook hook;
	struct tc_filter f;
	struct dirent *de;
	bool ours = false;
	DIR *dd;

	if (state_pin_path(dir, sizeof(dir), name, NULL))
		return false;
	dd = opendir(dir);
	while (dd && !ours && (de = readdir(dd)))
		ours = !strncmp(de->d_name, TC_FILTER_PREFIX, plen) &&
		       !pin_parse_link(de->d_name + plen, &other, &hook) &&
		       !strcmp(other.ifname, pt->ifname) && !strcmp(other.netns, pt->netns) &&
		       !tc_filter_read(name, de->d_name + plen, &f) && f.qdisc_ours;
	if (dd)
		closedir(dd);
	return ours;
}

#define TC_HOOK(h, idx, ingress)                                                                   \
	LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = (idx),                                              \
		    .attach_point = (ingress) ? BPF_TC_INGRESS : BPF_TC_EGRESS)

int tc_filter_attach(const char *name, const char *pin, const struct attach_point *pt, bool ingress,
		     int prog_fd, struct tc_filter *f, struct diag *d)
{
	const char *dir = ingress ? "ingress" : "egress";
	int saved, idx, err;

	memset(f, 0, sizeof(*f));
	err = netns_enter(pt->netns, &saved, d);
	if (err)
		return err;
	idx = netns_ifindex(pt->ifname);
	if (idx < 0) {
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
		err = idx;
		goto out;
	}
	{
		TC_HOOK(hook, idx, ingress);
		LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .priority = TC_FILTER_PRIO);

		/* the kernel's refusal of a second clsact qdisc is expected: not shown */
		libbpf_print_fn_t prev = libbpf_set_print(NULL);

		err = bpf_tc_hook_create(&hook);
		libbpf_set_print(prev);
		f->qdisc_ours = !err || (err == -EEXIST && qdisc_made_by_instance(name, pt));
		if (err && err != -EEXIST) {
			diag_error(d, NULL, 0, "cannot add a clsact qdisc to '%s': %s", pt->ifname,
				   strerror(-err));
			goto out;
		}
		err = bpf_tc_attach(&hook, &opts);
		if (err) {
			diag_error(d, NULL, 0,
				   "cannot add a tc %s filter (clsact, direct-action, priority %u) "
				   "to '%s': %s%s",
				   dir, TC_FILTER_PRIO, pt->ifname, strerror(-err),
				   err == -EINVAL ?
					   " (another kind of filter holds that priority?)" :
					   "");
		} else {
			f->ifindex = idx;
			f->handle = opts.handle;
			f->prio = opts.priority;
		}
	}
	if (!err) {
		err = tc_filter_write(name, pin, f);
		if (err) {
			diag_error(d, NULL, 0, "cannot record the tc filter on '%s': %s",
				   pt->ifname, strerror(-err));
			netns_leave(saved);
			tc_filter_detach(name, pin, pt, f, ingress, 0);
			return err;
		}
	}
out:
	netns_leave(saved);
	return err;
}

int tc_filter_replace(const struct attach_point *pt, const struct tc_filter *f, bool ingress,
		      int prog_fd, struct diag *d)
{
	TC_HOOK(hook, f->ifindex, ingress);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE,
		    .handle = f->handle, .priority = f->prio);
	int saved, err;

	err = netns_enter(pt->netns, &saved, d);
	if (err)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	netns_leave(saved);
	if (err)
		diag_error(d, NULL, 0, "cannot replace the tc %s filter on '%s': %s",
			   ingress ? "ingress" : "egress", pt->ifname, strerror(-err));
	return err;
}

/* in the interface's namespace: the program at the filter's place, when the interface is it */
static __u32 filter_prog_here(const struct attach_point *pt, const struct tc_filter *f,
			      bool ingress)
{
	TC_HOOK(hook, f->ifindex, ingress);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f->handle, .priority = f->prio);

	if (netns_ifindex(pt->ifname) != (int)f->ifindex)
		return 0; /* gone, or another interface of that name */
	return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}

__u32 tc_filter_prog(const struct attach_point *pt, const struct tc_filter *f, bool ingress)
{
	struct diag d = {};
	__u32 id = 0;
	int saved;

	if (!netns_enter(pt->netns, &saved, &d)) {
		id = filter_prog_here(pt, f, ingress);
		netns_leave(saved);
	}
	diag_free(&d);
	return id;
}

/* the filters (and chains) on the clsact hook of parent; 0 when none, or -errno */
static int clsact_filters(int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req = {
		.n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_GETTFILTER,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1 },
		.t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent },
	};
	char buf[8192];
	int fd, n = 0, err = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len <= 0) {
			err = len < 0 ? -errno : -EIO;
			break;
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
			} else if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				done = true;
			} else if (h->nlmsg_type == RTM_NEWTFILTER) {
				n++;
			}
		}
	}
	close(fd);
	return err ? err : n;
}

int tc_filter_detach(const char *name, const char *pin, const struct attach_point *pt,
		     const struct tc_filter *f, bool ingress, __u32 prog_id)
{
	TC_HOOK(hook, f->ifindex, ingress);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f->handle, .priority = f->prio);
	struct diag d = {};
	__u32 now;
	int saved, err;

	err = netns_enter(pt->netns, &saved, &d);
	diag_free(&d);
	if (err == -ENOENT) {
		tc_filter_forget(name, pin); /* the namespace is gone, and the interface with it */
		return 0;
	}
	if (err)
		return err;
	now = filter_prog_here(pt, f, ingress);
	if (now && (!prog_id || now == prog_id))
		err = bpf_tc_detach(&hook, &opts);
	if (!err && f->qdisc_ours && netns_ifindex(pt->ifname) == (int)f->ifindex &&
	    !clsact_filters(f->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) &&
	    !clsact_filters(f->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS))) {
		LIBBPF_OPTS(bpf_tc_hook, both, .ifindex = f->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&both); /* empty: nothing but ours was ever on it */
	}
	netns_leave(saved);
	if (!err)
		tc_filter_forget(name, pin);
	return err;
}

bool tc_hook_ingress(enum link_hook hook)
{
	return link_hooks[hook].attach_type == TCX_ATTACH_INGRESS;
}

bool tc_filter_live(const char *name, const char *pin, const struct attach_point *pt, bool ingress,
		    __u32 *prog_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), now = 0;
	struct tc_filter f;
	int fd;

	if (!tc_filter_read(name, pin, &f))
		now = tc_filter_prog(pt, &f, ingress);
	fd = pins_get(name, pin);
	if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	if (fd >= 0)
		close(fd);
	if (prog_id)
		*prog_id = info.id;
	return now && now == info.id;
}
