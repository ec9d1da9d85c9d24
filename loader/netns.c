/* netns.c: entering network namespaces with setns(), and what an interface has in one. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

int netns_ref_valid(const char *ref)
{
	size_t n = strlen(ref);

	if (!strncmp(ref, "pid:", 4)) {
		const char *p = ref + 4;

		return *p && *p != '0' && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 10 ?
			       0 :
			       -EINVAL;
	}
	if (ref[0] == '/') {
		for (const char *p = ref; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -EINVAL;
		return n < NETNS_REF_MAX ? 0 : -EINVAL;
	}
	return netns_name_valid(ref) ? 0 : -EINVAL;
}

int netns_ref_path(const char *ref, char *buf, size_t len)
{
	int n;

	if (!strncmp(ref, "pid:", 4))
		n = snprintf(buf, len, "/proc/%s/ns/net", ref + 4);
	else if (ref[0] == '/')
		n = snprintf(buf, len, "%s", ref);
	else
		n = snprintf(buf, len, "/run/netns/%s", ref);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int netns_ref_persistent(const char *ref)
{
	return strncmp(ref, "pid:", 4) && strncmp(ref, "/proc/", 6) && strcmp(ref, "/proc");
}

int netns_open(const char *ref, struct diag *d)
{
	char path[NETNS_REF_MAX + 32];
	int fd, err;

	if (netns_ref_valid(ref)) {
		diag_error(d, NULL, 0,
			   "bad network namespace '%s': a name in /run/netns, an absolute path or "
			   "pid:PID",
			   ref);
		return -EINVAL;
	}
	err = netns_ref_path(ref, path, sizeof(path));
	if (err) {
		diag_error(d, NULL, 0, "network namespace '%s': path too long", ref);
		return err;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "no network namespace '%s' (%s: %s)", ref, path,
			   strerror(errno));
		return err;
	}
	/* a regular file, a directory or another kind of namespace is not one */
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		diag_error(d, NULL, 0, "'%s' (%s) is not a network namespace", ref, path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_enter(const char *ref, int *saved, struct diag *d)
{
	int fd, err;

	*saved = -1;
	if (!ref || !*ref)
		return 0;
	fd = netns_open(ref, d);
	if (fd < 0)
		return fd;
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot enter network namespace '%s': %s", ref,
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
