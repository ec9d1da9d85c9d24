/* instance_cni.c: instances a CNI plugin makes, one per container interface: add, check, delete, gc. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cni_args.h"
#include "instance.h"
#include "instance_cni.h"

int instance_cni_host_veth(const char *netns, const char *ifname, const char (*cands)[IF_NAMESIZE],
			   size_t n, struct diag *d)
{
	int saved, idx, peer, err;

	err = netns_enter(netns, &saved, d);
	if (err)
		return err;
	idx = netns_ifindex(ifname);
	peer = idx > 0 ? netns_veth_peer(idx) : idx;
	netns_leave(saved);
	if (idx < 0) {
		diag_error(d, NULL, 0, "no interface '%s' in network namespace %s", ifname, netns);
		return -ENODEV;
	}
	/* (the peer's index is in the other namespace: it may equal idx) */
	if (peer <= 0) {
		diag_error(d, NULL, 0, "'%s' in network namespace %s is not one end of a veth pair",
			   ifname, netns);
		return -ENXIO;
	}
	for (size_t i = 0; i < n; i++) {
		int ci = netns_ifindex(cands[i]);

		if (ci == peer && netns_veth_peer(ci) == idx)
			return i;
	}
	diag_error(d, NULL, 0,
		   "no interface of prevResult without \"sandbox\" (%zu of them) is the host-side "
		   "peer of '%s' in %s: chain ironclaw-pipe after a plugin that makes a veth "
		   "(bridge, ptp)",
		   n, ifname, netns);
	return -ENXIO;
}

int instance_cni_profile_check(const char *dir, struct diag *d)
{
	struct ruleset rs;
	int err = instance_check(dir, NULL, &rs, d);

	if (!err && rs.has_tools) {
		diag_error(d, dir, 0,
			   "the profile has rules for a tool ('tool NAME'): a CNI plugin knows no "
			   "cgroup of the container's, so it cannot tell tools apart; refused");
		err = -EINVAL;
	}
	ruleset_free(&rs);
	return err;
}

static int state_write(const char *name, const struct cni_attachment *a, struct diag *d)
{
	char *text = NULL;
	int n, err;

	n = asprintf(&text,
		     "network=%s\ncontainer=%s\nifname=%s\nnetns=%s\nhost_if=%s\nhost_ifindex=%d\n"
		     "host_netns=%lu\n",
		     a->network, a->container, a->ifname, a->netns, a->host_if, a->host_ifindex,
		     a->host_netns);
	if (n < 0)
		return -ENOMEM;
	err = state_write_instance_file(name, CNI_STATE_FILE, text, n, d);
	free(text);
	return err;
}

int instance_cni_read(const char *name, struct cni_attachment *a)
{
	char path[STATE_PATH_MAX], *text, *save = NULL;
	size_t len;

	memset(a, 0, sizeof(*a));
	if (state_path(path, sizeof(path), name, CNI_STATE_FILE))
		return -ENAMETOOLONG;
	text = state_read_file(path, &len);
	if (!text)
		return -errno;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(l, "network"))
			snprintf(a->network, sizeof(a->network), "%s", v);
		else if (!strcmp(l, "container"))
			snprintf(a->container, sizeof(a->container), "%s", v);
		else if (!strcmp(l, "ifname"))
			snprintf(a->ifname, sizeof(a->ifname), "%s", v);
		else if (!strcmp(l, "netns"))
			snprintf(a->netns, sizeof(a->netns), "%s", v);
		else if (!strcmp(l, "host_if"))
			snprintf(a->host_if, sizeof(a->host_if), "%s", v);
		else if (!strcmp(l, "host_ifindex"))
			a->host_ifindex = atoi(v);
		else if (!strcmp(l, "host_netns"))
			a->host_netns = strtoul(v, NULL, 10);
	}
	free(text);
	return a->host_if[0] ? 0 : -ENOENT;
}

/*
 * A bridge's MAC may have changed since an instance was installed (one whose
 * MAC was never set takes its lowest port's, so a container joining changes
 * it; the node's own tools may set it): every other CNI instance reads its
 * layer 2 again (one whose veth is gone is left to gc).
 */
static void refresh_others(const char *name)
{
	char root[STATE_PATH_MAX];
	struct dirent *de;
	DIR *dd;

	state_pin_root(root, sizeof(root));
	dd = opendir(root);
	while (dd && (de = readdir(dd))) {
		struct diag quiet = {};
		struct instance in;

		if (strncmp(de->d_name, "cni-", 4) || !strcmp(de->d_name, name) ||
		    !instance_name_valid(de->d_name))
			continue;
		if (!instance_open(de->d_name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, &quiet))
			instance_refresh_l2(&in, &quiet);
		instance_close(&in);
		diag_free(&quiet);
	}
	if (dd)
		closedir(dd);
}

int instance_cni_add(const char *name, const struct cni_attachment *a, const char *profile,
		     const struct addr *sources, size_t nr_sources, struct diag *d)
{
	struct attach_point pt = { .kind = ATTACH_TC_INGRESS };
	struct install_spec s = {
		.profile = profile,
		.sandbox_netns = a->netns,
		.points = &pt,
		.nr_points = 1,
		.sources = sources,
		.nr_sources = nr_sources,
	};
	struct install_result res;
	struct instance in;
	int err;

	snprintf(pt.ifname, sizeof(pt.ifname), "%s", a->host_if);
	err = instance_open(name, INSTANCE_LOCK, &in, d);
	if (!err)
		err = instance_install(&in, &s, &res, d);
	if (!err) {
		err = state_write(name, a, d);
		if (err) {
			struct diag quiet = {};

			/* without its attachment recorded, DEL and gc could not find it */
			instance_uninstall(&in, &quiet);
			diag_free(&quiet);
		}
	}
	instance_close(&in); /* an instance not installed takes its state with it */
	if (!err)
		refresh_others(name);
	return err;
}

/* the instance is installed: 1, 0, or -errno for a bad name */
static int installed(const char *name, struct diag *d)
{
	struct instance in;
	int err = instance_open(name, 0, &in, d);

	if (err)
		return err;
	err = in.installed;
	instance_close(&in);
	return err;
}

int instance_cni_check(const char *name, const struct cni_attachment *want, struct diag *d)
{
	struct cni_attachment have;
	FILE *null;
	int err = installed(name, d);

	if (err <= 0) {
		if (!err)
			diag_error(d, NULL, 0,
				   "no instance '%s' for container %s, interface %s: ADD did not "
				   "run, failed, or it was deleted",
				   name, want->container, want->ifname);
		return err ? err : -ENOENT;
	}
	if (instance_cni_read(name, &have) || strcmp(have.network, want->network) ||
	    strcmp(have.container, want->container) || strcmp(have.ifname, want->ifname)) {
		diag_error(d, NULL, 0,
			   "instance '%s' keeps no attachment of network %s, container %s, "
			   "interface %s",
			   name, want->network, want->container, want->ifname);
		return -ESTALE;
	}
	if (netns_ifindex(have.host_if) != have.host_ifindex) {
		diag_error(d, NULL, 0,
			   "instance '%s': the host-side veth %s (index %d) is gone: the "
			   "container's egress is not filtered",
			   name, have.host_if, have.host_ifindex);
		return -ENOLINK;
	}
	null = fopen("/dev/null", "w");
	if (!null)
		return -errno;
	err = instance_status(name, null, false, d);
	fclose(null);
	if (err == -ENOLINK)
		diag_error(
			d, NULL, 0,
			"instance '%s': an attachment is lost ('ironclaw-pipe status --name %s')",
			name, name);
	return err;
}

int instance_cni_del(const char *name, struct diag *d)
{
	struct instance in;
	struct diag quiet = {};
	int err = installed(name, d);

	if (err < 0)
		return err;
	/* deny-all first: nothing leaves while the links come off */
	if (err)
		instance_block(name, &quiet);
	diag_free(&quiet);
	err = instance_open(name, INSTANCE_LOCK, &in, d);
	if (!err && in.installed)
		err = instance_uninstall(&in, d);
	instance_close(&in); /* and its state (the attachment) goes */
	return err;
}

static unsigned long netns_self(void)
{
	struct stat sb;

	return stat("/proc/self/ns/net", &sb) ? 0 : sb.st_ino;
}

/* the instance's host-side veth is gone (or its link is lost): 1, else 0 */
static int attachment_gone(const char *name, unsigned long here)
{
	struct cni_attachment a;
	struct diag quiet = {};
	FILE *null;
	int err;

	if (!instance_cni_read(name, &a)) {
		if (a.host_netns && a.host_netns != here)
			return 0; /* another namespace's plugin made it */
		if (netns_ifindex(a.host_if) != a.host_ifindex)
			return 1;
	}
	null = fopen("/dev/null", "w");
	if (!null)
		return 0;
	err = instance_status(name, null, false, &quiet);
	fclose(null);
	diag_free(&quiet);
	return err == -ENOLINK;
}

int instance_cni_gc(FILE *out, struct diag *d)
{
	char root[STATE_PATH_MAX];
	unsigned long here = netns_self();
	struct dirent *de;
	int removed = 0, err = 0;
	DIR *dd;

	state_pin_root(root, sizeof(root));
	dd = opendir(root);
	if (!dd)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dd))) {
		struct cni_attachment a;

		if (!cni_instance_name_is(de->d_name) || !attachment_gone(de->d_name, here))
			continue;
		if (instance_cni_read(de->d_name, &a))
			snprintf(a.container, sizeof(a.container), "?");
		err = instance_cni_del(de->d_name, d);
		if (err)
			break;
		fprintf(out,
			"removed instance '%s' (container %s, interface %s): its veth %s is gone\n",
			de->d_name, a.container, a.ifname[0] ? a.ifname : "?",
			a.host_if[0] ? a.host_if : "?");
		removed++;
	}
	closedir(dd);
	return err ? err : removed;
}
