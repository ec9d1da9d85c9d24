/* attach.c: where an instance attaches (interfaces, a cgroup), as given on the command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "attach.h"

int attach_point_parse(const char *arg, enum attach_kind kind, struct attach_point *pt)
{
	const char *at = strchr(arg, '@');
	size_t n = at ? (size_t)(at - arg) : strlen(arg);

	memset(pt, 0, sizeof(*pt));
	pt->kind = kind;
	if (n == 0 || n >= IF_NAMESIZE || memchr(arg, '/', n) || memchr(arg, ':', n))
		return -EINVAL;
	memcpy(pt->ifname, arg, n);
	if (at) {
		if (netns_ref_valid(at + 1))
			return -EINVAL;
		snprintf(pt->netns, sizeof(pt->netns), "%s", at + 1);
	}
	return 0;
}

int attach_point_cgroup(const char *arg, struct attach_point *pt, struct diag *d)
{
	struct sandbox_cgroup sc;
	char mnt[256];
	int err;

	memset(pt, 0, sizeof(*pt));
	pt->kind = ATTACH_CGROUP;
	err = sandbox_cgroup_open(arg, &sc, d);
	if (!err)
		err = cgroup2_mount(mnt, sizeof(mnt));
	if (!err) {
		const char *rel = sc.path + strlen(mnt);

		snprintf(pt->cgroup, sizeof(pt->cgroup), "%s", *rel == '/' ? rel + 1 : rel);
	}
	if (!err && !pt->cgroup[0]) {
		diag_error(d, NULL, 0, "--cgroup %s: the root cgroup is every process of the host",
			   arg);
		err = -EINVAL;
	}
	return err;
}

const char *attach_kind_option(enum attach_kind kind)
{
	switch (kind) {
	case ATTACH_TC_INGRESS:
		return "--tc-ingress";
	case ATTACH_TC_EGRESS:
		return "--tc";
	case ATTACH_CGROUP:
		return "--cgroup";
	case ATTACH_XDP:
		return "--xdp";
	}
	return "?";
}

bool attach_kind_present(const struct attach_point *p, size_t n, enum attach_kind kind)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].kind == kind)
			return true;
	return false;
}

int attach_point_sources(const struct attach_point *pt, const char *sandbox_ns, struct addr *out,
			 size_t max, struct diag *d)
{
	int saved, idx, n;

	if (pt->kind == ATTACH_CGROUP) {
		/* the sockets of the cgroup use the addresses of the sandbox's namespace */
		if (!sandbox_ns) {
			diag_error(d, NULL, 0,
				   "--cgroup %s: the sandbox's addresses are unknown; "
				   "give --source ADDR or --sandbox-netns NS",
				   pt->cgroup);
			return -EINVAL;
		}
		n = netns_enter(sandbox_ns, &saved, d);
		if (n)
			return n;
		n = netns_if_addrs(0, out, max);
		netns_leave(saved);
		if (n <= 0)
			diag_error(d, NULL, 0,
				   "network namespace %s has no addresses: give --source",
				   sandbox_ns);
		return n <= 0 ? -EADDRNOTAVAIL : n;
	}
	n = netns_enter(pt->netns, &saved, d);
	if (n)
		return n;
	idx = netns_ifindex(pt->ifname);
	if (idx > 0 && pt->kind != ATTACH_TC_EGRESS)
		idx = netns_veth_peer(idx);
	netns_leave(saved);
	if (idx == -ENODEV || (idx < 0 && pt->kind == ATTACH_TC_EGRESS)) {
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
		return -ENODEV;
	}
	if (idx < 0) {
		diag_error(d, NULL, 0, "'%s' is not one end of a veth pair: give --source",
			   pt->ifname);
		return idx;
	}
	n = netns_enter(pt->kind != ATTACH_TC_EGRESS ? sandbox_ns : pt->netns, &saved, d);
	if (n)
		return n;
	n = netns_if_addrs(idx, out, max);
	netns_leave(saved);
	if (n <= 0)
		diag_error(d, NULL, 0, "the sandbox side of '%s' has no addresses: give --source",
			   pt->ifname);
	return n <= 0 ? -EADDRNOTAVAIL : n;
}
