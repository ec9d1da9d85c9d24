/* pins.c: an instance's pins in bpffs: their names (bpffs refuses '.' in them) and their paths. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "pins.h"
#include "state.h"

int pins_get(const char *name, const char *object)
{
	char path[STATE_PATH_MAX];
	int fd;

	if (state_pin_path(path, sizeof(path), name, object))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pins_bpffs_ensure(struct diag *d)
{
	struct statfs st;
	int err;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot create /sys/fs/bpf: %s", strerror(-err));
		return err;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		err = -errno;
		diag_error(d, NULL, 0,
			   "bpffs is not mounted and cannot be mounted at /sys/fs/bpf: %s",
			   strerror(-err));
		return err;
	}
	return 0;
}

/* '%', '.', '@' and '/' escaped as %XX so any interface or namespace name fits */
static void escape(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		if (strchr("%.@/", *in))
			o += snprintf(out + o, len - o, "%%%02x", (unsigned char)*in);
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static int unescape(char *out, size_t len, const char *in, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned int c = (unsigned char)in[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if (sscanf(in + i + 1, "%2x", &c) != 1)
				return -1;
			i += 2;
		}
		if (o + 1 >= len)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

void pin_name_rules(char *buf, size_t len, const char *stage)
{
	snprintf(buf, len, "%s%s", PIN_RULES_PREFIX, stage);
}

void pin_name_rules4(char *buf, size_t len, const char *stage)
{
	snprintf(buf, len, "%s%s", PIN_RULES4_PREFIX, stage);
}

void pin_name_stage(char *buf, size_t len, const char *stage)
{
	snprintf(buf, len, "%s%s-tc", PIN_STAGE_PREFIX, stage);
}

int pin_parse_stage(const char *pin, char *stage, size_t len)
{
	size_t plen = strlen(PIN_STAGE_PREFIX), n = strlen(pin);

	if (strncmp(pin, PIN_STAGE_PREFIX, plen) || n < plen + 4 || strcmp(pin + n - 3, "-tc"))
		return -1;
	snprintf(stage, len, "%.*s", (int)(n - plen - 3), pin + plen);
	return 0;
}

size_t attach_point_hooks(const struct attach_point *pt, enum link_hook *out)
{
	size_t n = 0;

	switch (pt->kind) {
	case ATTACH_CGROUP:
		out[n++] = LINK_SOCK_CREATE;
		for (enum hook_id h = HOOK_FIRST; h < NR_HOOKS; h++)
			if (hooks[h].load == HOOK_LOAD_CGROUP)
				out[n++] = LINK_OF_HOOK(h);
		break;
	case ATTACH_TC_INGRESS:
		/* the sandbox's packets arrive here; the answers for it leave here */
		out[n++] = LINK_TC_INGRESS;
		out[n++] = LINK_LEARN_EGRESS;
		break;
	case ATTACH_TC_EGRESS:
		/* no learning inside the sandbox: it would see the rewritten ids */
		out[n++] = LINK_TC_EGRESS;
		break;
	case ATTACH_XDP:
		out[n++] = LINK_XDP;
		break;
	}
	return n;
}

void pin_name_link(char *buf, size_t len, const struct attach_point *pt, enum link_hook hook)
{
	char target[3 * CGROUP_PATH_MAX + 1], ns[3 * NETNS_REF_MAX + 1];
	int n;

	if (pt->kind == ATTACH_CGROUP) {
		escape(target, sizeof(target), pt->cgroup);
	} else {
		escape(target, sizeof(target), pt->ifname);
		escape(ns, sizeof(ns), pt->netns);
		if (pt->netns[0])
			snprintf(target + strlen(target), sizeof(target) - strlen(target), "@%s",
				 ns);
	}
	n = snprintf(buf, len, "%s%s-%s", PIN_LINK_PREFIX, link_hooks[hook].name, target);
	if (n < 0 || (size_t)n >= len || n > 255)
		buf[0] = '\0';
}

int pin_parse_link(const char *pin, struct attach_point *pt, enum link_hook *hook)
{
	size_t plen = strlen(PIN_LINK_PREFIX);
	const char *name, *dash, *target, *at;
	int h;

	memset(pt, 0, sizeof(*pt));
	if (strncmp(pin, PIN_LINK_PREFIX, plen))
		return -1;
	name = pin + plen;
	dash = strchr(name, '-');
	if (!dash)
		return -1;
	for (h = 0; h < NR_LINK_HOOKS; h++)
		if (link_hooks[h].name && strlen(link_hooks[h].name) == (size_t)(dash - name) &&
		    !strncmp(name, link_hooks[h].name, dash - name))
			break;
	if (h == NR_LINK_HOOKS)
		return -1;
	*hook = h;
	target = dash + 1;
	if (link_hooks[h].cgroup) {
		pt->kind = ATTACH_CGROUP;
		return unescape(pt->cgroup, sizeof(pt->cgroup), target, strlen(target));
	}
	pt->kind = h == LINK_TC_INGRESS || h == LINK_LEARN_EGRESS ? ATTACH_TC_INGRESS :
		   h == LINK_XDP				  ? ATTACH_XDP :
								    ATTACH_TC_EGRESS;
	at = strchr(target, '@');
	if (unescape(pt->ifname, sizeof(pt->ifname), target,
		     at ? (size_t)(at - target) : strlen(target)))
		return -1;
	if (at && unescape(pt->netns, sizeof(pt->netns), at + 1, strlen(at + 1)))
		return -1;
	return 0;
}

static bool same_point(const struct attach_point *a, const struct attach_point *b)
{
	return a->kind == b->kind && !strcmp(a->ifname, b->ifname) && !strcmp(a->netns, b->netns) &&
	       !strcmp(a->cgroup, b->cgroup);
}

size_t pins_attach_points(const char *name, struct attach_point *out, size_t max)
{
	char dir[STATE_PATH_MAX];
	struct attach_point pt;
	enum link_hook hook;
	struct dirent *de;
	size_t n = 0;
	DIR *dd;

	state_pin_path(dir, sizeof(dir), name, NULL);
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		bool seen = false;

		if (pin_parse_link(de->d_name, &pt, &hook))
			continue;
		for (size_t i = 0; i < n && !seen; i++)
			seen = same_point(&out[i], &pt);
		if (!seen && n < max)
			out[n++] = pt;
	}
	if (dd)
		closedir(dd);
	return n;
}
