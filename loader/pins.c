/* pins.c: names of an instance's pins in bpffs, which refuses '.' in names. */
#include <stdio.h>
#include <string.h>
#include "pipeline.h"

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
		for (enum link_hook h = LINK_CG_FIRST; h <= LINK_CG_LAST; h++)
			out[n++] = h;
		break;
	case ATTACH_TC_INGRESS:
		/* the sandbox's packets arrive here; the answers for it leave here */
		out[n++] = LINK_TC_INGRESS;
		out[n++] = LINK_LEARN_EGRESS;
		break;
	case ATTACH_TC_EGRESS:
		out[n++] = LINK_TC_EGRESS;
		out[n++] = LINK_LEARN_INGRESS;
		break;
	case ATTACH_XDP:
		out[n++] = LINK_XDP;
		break;
	}
	return n;
}

void pin_name_link(char *buf, size_t len, const struct attach_point *pt, enum link_hook hook)
{
	char target[3 * CGROUP_PATH_MAX + 1], ns[3 * NETNS_NAME_MAX + 1];
	int n;

	if (pt->kind == ATTACH_CGROUP) {
		escape(target, sizeof(target), pt->cgroup);
	} else {
		escape(target, sizeof(target), pt->ifname);
		escape(ns, sizeof(ns), pt->netns);
		if (pt->netns[0])
			snprintf(target + strlen(target), sizeof(target) - strlen(target), "@%s", ns);
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
		if (strlen(link_hooks[h].name) == (size_t)(dash - name) &&
		    !strncmp(name, link_hooks[h].name, dash - name))
			break;
	if (h == NR_LINK_HOOKS)
		return -1;
	*hook = h;
	target = dash + 1;
	if (h >= LINK_CG_FIRST) {
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
