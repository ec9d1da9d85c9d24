/* netns.c: entering network namespaces with setns(), and what an interface has in one. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netns.h"

int netns_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < NETNS_NAME_MAX && strcmp(name, ".") && strcmp(name, "..") &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       n;
}

int netns_enter(const char *name, int *saved, struct diag *d)
{
	char path[128];
	int fd, err;

	*saved = -1;
	if (!name || !*name)
		return 0;
	if (!netns_name_valid(name)) {
		diag_error(d, NULL, 0, "bad network namespace name '%s'", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "no network namespace '%s' (%s: %s)", name, path,
			   strerror(errno));
		return err;
	}
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot enter network namespace '%s': %s", name,
			   strerror(errno));
		if (*saved >= 0)
			close(*saved);
		*saved = -1;
		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET))
		perror("ironclaw-pipe: cannot return to the original network namespace");
	close(saved);
}

int netns_ifindex(const char *ifname)
{
	unsigned int idx = if_nametoindex(ifname);

	return idx ? (int)idx : -ENODEV;
}

int netns_if_addrs(int ifindex, struct addr *out, size_t max)
{
	struct ifaddrs *ifa, *i;
	char name[IF_NAMESIZE] = "";
	size_t n = 0;

	if (ifindex && !if_indextoname(ifindex, name))
		return -ENODEV;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr ||
		    (ifindex ? strcmp(i->ifa_name, name) != 0 : (i->ifa_flags & IFF_LOOPBACK) != 0))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			out[n] = (struct addr){ .family = AF_INET, .plen = 32 };
			memcpy(out[n++].bytes, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			out[n] = (struct addr){ .family = AF_INET6, .plen = 128 };
			memcpy(out[n++].bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
		}
	}
	freeifaddrs(ifa);
	return n;
}

int netns_veth_peer(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = ifindex,
	};
	char buf[8192];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int fd, len, peer = -ENOENT;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (len = recv(fd, buf, sizeof(buf), 0)) < 0) {
		peer = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned)len) || nh->nlmsg_type != RTM_NEWLINK) {
		peer = -ENODEV;
		goto out;
	}
	{
		struct ifinfomsg *ifi = NLMSG_DATA(nh);
		struct rtattr *rta = IFLA_RTA(ifi);
		int alen = IFLA_PAYLOAD(nh);

		for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen))
			if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= sizeof(int))
				memcpy(&peer, RTA_DATA(rta), sizeof(int));
	}
out:
	close(fd);
	return peer;
}
