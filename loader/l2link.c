/* l2link.c: a host-side veth at layer 2, read from the host side over rtnetlink. */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "l2link.h"
#include "netns.h"

#ifndef IFLA_TARGET_NETNSID
#define IFLA_TARGET_NETNSID 46 /* linux 4.20 */
#endif

#define NL_BUF 32768
#define L2LINK_MAX_ADDRS 64

/* what RTM_GETLINK says of one interface */
struct nl_link {
	__u8 mac[L2_ALEN];
	bool has_mac;
	int master; /* 0: none */
	int link; /* IFLA_LINK: a veth's peer; 0: none */
	int link_nsid; /* IFLA_LINK_NETNSID; -1: the same namespace */
	char kind[16]; /* IFLA_INFO_KIND: "veth", "bridge", ... */
};

const char *l2link_mac_format(const __u8 *mac, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static void parse_linkinfo(struct rtattr *info, struct nl_link *out)
{
	int alen = RTA_PAYLOAD(info);

	for (struct rtattr *a = RTA_DATA(info); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == IFLA_INFO_KIND)
			snprintf(out->kind, sizeof(out->kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
}

/* RTM_GETLINK for ifindex, in the namespace of nsid (-1: the current one) */
static int nl_getlink(int ifindex, int nsid, struct nl_link *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(sizeof(int))];
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = ifindex,
	};
	static char buf[NL_BUF];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int fd, len, err = 0;

	memset(out, 0, sizeof(*out));
	out->link_nsid = -1;
	if (nsid >= 0) {
		struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));

		a->rta_type = IFLA_TARGET_NETNSID;
		a->rta_len = RTA_LENGTH(sizeof(int));
		memcpy(RTA_DATA(a), &nsid, sizeof(int));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(sizeof(int));
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0 || (len = recv(fd, buf, sizeof(buf), 0)) < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned int)len)) {
		err = -EPROTO;
		goto out;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		err = e->error ? e->error : -ENODEV;
		goto out;
	}
	if (nh->nlmsg_type != RTM_NEWLINK) {
		err = -ENODEV;
		goto out;
	}
	{
		struct ifinfomsg *ifi = NLMSG_DATA(nh);
		int alen = IFLA_PAYLOAD(nh);

		for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == L2_ALEN) {
				memcpy(out->mac, RTA_DATA(a), L2_ALEN);
				out->has_mac = true;
			} else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= sizeof(int)) {
				memcpy(&out->master, RTA_DATA(a), sizeof(int));
			} else if (a->rta_type == IFLA_LINK && RTA_PAYLOAD(a) >= sizeof(int)) {
				memcpy(&out->link, RTA_DATA(a), sizeof(int));
			} else if (a->rta_type == IFLA_LINK_NETNSID &&
				   RTA_PAYLOAD(a) >= sizeof(int)) {
				memcpy(&out->link_nsid, RTA_DATA(a), sizeof(int));
			} else if (a->rta_type == IFLA_LINKINFO) {
				parse_linkinfo(a, out);
			}
		}
	}
out:
	close(fd);
	return err;
}

/*
 * The MAC of the host's neighbour entry for a on interface ifindex (one
 * that has a link-layer address: not incomplete or failed), 0 or -ENOENT.
 */
static int nl_neighbour(int ifindex, const struct addr *a, __u8 *mac)
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETNEIGH,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nd.ndm_family = a->family,
	};
	static char buf[NL_BUF];
	size_t alen = a->family == AF_INET ? 4 : 16;
	int fd, len, err = -ENOENT;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && (len = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned int)len);
		     nh = NLMSG_NEXT(nh, len)) {
			struct ndmsg *nd = NLMSG_DATA(nh);
			const void *dst = NULL, *ll = NULL;
			int rlen;

			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_ifindex != ifindex ||
			    (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED)) ||
			    nd->ndm_state == NUD_NONE)
				continue;
			rlen = RTM_PAYLOAD(nh);
			for (struct rtattr *r = RTM_RTA(nd); RTA_OK(r, rlen);
			     r = RTA_NEXT(r, rlen)) {
				if (r->rta_type == NDA_DST && RTA_PAYLOAD(r) == alen)
					dst = RTA_DATA(r);
				else if (r->rta_type == NDA_LLADDR && RTA_PAYLOAD(r) == L2_ALEN)
					ll = RTA_DATA(r);
			}
			if (dst && ll && !memcmp(dst, a->bytes, alen) && err) {
				memcpy(mac, ll, L2_ALEN);
				err = 0;
			}
		}
	}
out:
	close(fd);
	return err;
}

static bool dst_add(struct l2_link *l, const __u8 *mac)
{
	for (__u8 i = 0; i < l->nr_dst; i++)
		if (!memcmp(l->dst[i], mac, L2_ALEN))
			return true;
	if (l->nr_dst == L2_MAX_DST)
		return false;
	memcpy(l->dst[l->nr_dst++], mac, L2_ALEN);
	return true;
}

/* a gateway's address into the settings; false when there is no room */
static bool gw_add(struct l2_link *l, const struct addr *a)
{
	if (a->family == AF_INET) {
		if (l->nr_gw4 == L2_MAX_GW4)
			return false;
		memcpy(l->gw4[l->nr_gw4++], a->bytes, 4);
	} else {
		if (l->nr_gw6 == L2_MAX_GW6)
			return false;
		memcpy(l->gw6[l->nr_gw6++], a->bytes, 16);
	}
	return true;
}

static bool addr_in(const struct addr *a, const struct addr *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr_equal(a, &list[i]))
			return true;
	return false;
}

/* in the point's namespace: everything but the peer's MAC, which may live elsewhere */
static int read_here(const struct attach_point *pt, const struct addr *gw, size_t nr_gw, int idx,
		     const struct nl_link *hl, struct l2_link *out, struct diag *d)
{
	struct addr own[L2LINK_MAX_ADDRS];
	int at = hl->master ? hl->master : idx, n, err;
	char where[IF_NAMESIZE] = "?", buf[ADDR_STR_LEN];
	struct nl_link ml;

	if_indextoname(at, where);
	if (hl->master) {
		err = nl_getlink(hl->master, -1, &ml);
		if (err || !ml.has_mac) {
			diag_error(d, NULL, 0, "'%s': cannot read its master %s: %s", pt->ifname,
				   where, strerror(err ? -err : ENODEV));
			return err ? err : -ENODEV;
		}
		if (strcmp(ml.kind, "bridge")) {
			diag_error(
				d, NULL, 0,
				"'%s' is a port of %s, a %s: only a Linux bridge or a routed veth "
				"is known at layer 2",
				pt->ifname, where, ml.kind[0] ? ml.kind : "device of unknown kind");
			return -EOPNOTSUPP;
		}
		out->flags |= L2_F_BRIDGED;
		dst_add(out, ml.mac);
	} else {
		dst_add(out, hl->mac);
	}
	n = netns_if_addrs(at, own, L2LINK_MAX_ADDRS);
	if (n < 0)
		n = 0;
	for (size_t i = 0; i < (nr_gw ? nr_gw : (size_t)n); i++) {
		const struct addr *a = nr_gw ? &gw[i] : &own[i];
		__u8 mac[L2_ALEN];

		if (!gw_add(out, a)) {
			diag_error(d, NULL, 0,
				   "%s has more than %d IPv4 or %d IPv6 addresses: give the "
				   "gateway's with --gateway ADDR",
				   where, L2_MAX_GW4, L2_MAX_GW6);
			return -E2BIG;
		}
		/* a router elsewhere on the bridge: its MAC from the host's neighbour table */
		if (!hl->master || !nr_gw || addr_in(a, own, n))
			continue;
		err = nl_neighbour(hl->master, a, mac);
		if (err) {
			diag_error(
				d, NULL, 0,
				"--gateway %s: the host has no neighbour entry for it on %s (reach "
				"it from the host first, or add one: ip neigh replace %s lladdr MAC "
				"dev %s nud permanent)",
				addr_format(a, buf, sizeof(buf)), where, buf, where);
			return err;
		}
		if (!dst_add(out, mac)) {
			diag_error(d, NULL, 0, "more than %d gateway MACs on %s", L2_MAX_DST - 1,
				   where);
			return -E2BIG;
		}
	}
	return 0;
}

int l2link_read(const struct attach_point *pt, const struct addr *gw, size_t nr_gw, __u32 *ifindex,
		struct l2_link *out, struct diag *d)
{
	struct nl_link hl, pl;
	int saved, idx, err;

	memset(out, 0, sizeof(*out));
	err = netns_enter(pt->netns, &saved, d);
	if (err)
		return err;
	idx = netns_ifindex(pt->ifname);
	err = idx < 0 ? idx : nl_getlink(idx, -1, &hl);
	if (!err && strcmp(hl.kind, "veth"))
		err = -ENOTTY;
	if (!err)
		err = read_here(pt, gw, nr_gw, idx, &hl, out, d);
	else if (err == -ENOTTY)
		diag_error(d, NULL, 0,
			   "'%s' is not one end of a veth pair: the sandbox's MAC is unknown",
			   pt->ifname);
	else
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
	/* the peer, seen from here: in the namespace IFLA_LINK_NETNSID names */
	if (!err) {
		err = hl.link ? nl_getlink(hl.link, hl.link_nsid, &pl) : -ENODEV;
		if (!err && !pl.has_mac)
			err = -ENODEV;
		if (err)
			diag_error(d, NULL, 0, "'%s': cannot read its veth peer's MAC: %s",
				   pt->ifname, strerror(-err));
		else
			memcpy(out->mac, pl.mac, L2_ALEN);
	}
	netns_leave(saved);
	if (!err)
		*ifindex = idx;
	return err;
}
