/* instance_cni.h: instances a CNI plugin makes, one per container interface: add, check, delete, gc. */
#ifndef IRONCLAW_INSTANCE_CNI_H
#define IRONCLAW_INSTANCE_CNI_H

#include <net/if.h>
#include <stdio.h>
#include "addr.h"
#include "diag.h"
#include "netns.h"

#define CNI_NETWORK_MAX 256
#define CNI_CONTAINER_MAX 256
#define CNI_STATE_FILE "cni.conf" /* in the instance's runtime directory */

/* one container interface, as the runtime named it, and the host-side veth found for it */
struct cni_attachment {
	char network[CNI_NETWORK_MAX]; /* the network configuration's "name" */
	char container[CNI_CONTAINER_MAX]; /* CNI_CONTAINERID */
	char ifname[IF_NAMESIZE]; /* CNI_IFNAME, inside the container */
	char netns[NETNS_REF_MAX]; /* CNI_NETNS */
	char host_if[IF_NAMESIZE]; /* the host-side end of its veth */
	int host_ifindex;
	unsigned long host_netns; /* inode of the namespace host_if is in (the plugin's own) */
};

/*
 * Which of the interfaces cands[0..n) (named in the plugin's namespace) is
 * the veth peer of ifname in the namespace netns, as netlink has it in both
 * directions. Its index in cands, or -errno with a message: -ENXIO when none
 * is, -ENODEV when ifname is not in netns, or the error opening netns.
 */
int instance_cni_host_veth(const char *netns, const char *ifname, const char (*cands)[IF_NAMESIZE],
			   size_t n, struct diag *d);
/* the profile in dir, checked as install would, and without tool rules (CNI knows no cgroup) */
int instance_cni_profile_check(const char *dir, struct diag *d);
/*
 * Installs the instance name at tc ingress of a->host_if with the profile
 * and the container's addresses as sources, and keeps *a in its state. A
 * failure leaves nothing of a new instance behind.
 */
int instance_cni_add(const char *name, const struct cni_attachment *a, const char *profile,
		     const struct addr *sources, size_t nr_sources, struct diag *d);
/* the attachment an instance keeps; -ENOENT when it has none */
int instance_cni_read(const char *name, struct cni_attachment *a);
/*
 * The instance is installed, keeps this attachment, and its host-side veth
 * and link are there: 0, -ENOENT (no instance), -ENOLINK (an attachment is
 * lost), -ESTALE (it keeps another attachment), with a message.
 */
int instance_cni_check(const char *name, const struct cni_attachment *want, struct diag *d);
/* blocks the instance, then uninstalls it; one that is not there is success */
int instance_cni_del(const char *name, struct diag *d);
/*
 * Removes the CNI instances of this namespace whose host-side veth is gone
 * (blocked, then uninstalled), naming each on out. Count, or -errno.
 */
int instance_cni_gc(FILE *out, struct diag *d);

#endif
