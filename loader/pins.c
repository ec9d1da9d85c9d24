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

void pin_name_link(char *buf, size_t len, const struct attach_point *pt)
{
	char ifn[3 * IF_NAMESIZE + 1], ns[3 * NETNS_NAME_MAX + 1];

	escape(ifn, sizeof(ifn), pt->ifname);
	escape(ns, sizeof(ns), pt->netns);
	snprintf(buf, len, "%s%s-%s%s%s", PIN_LINK_PREFIX, attach_kind_name(pt->kind), ifn,
		 pt->netns[0] ? "@" : "", ns);
}

int pin_parse_link(const char *pin, struct attach_point *pt)
{
	size_t plen = strlen(PIN_LINK_PREFIX);
	const char *hook, *dash, *at;

	memset(pt, 0, sizeof(*pt));
	if (strncmp(pin, PIN_LINK_PREFIX, plen))
		return -1;
	hook = pin + plen;
	dash = strchr(hook, '-');
	if (!dash)
		return -1;
	if (!strncmp(hook, "tc_ingress", dash - hook))
		pt->kind = ATTACH_TC_INGRESS;
	else if (!strncmp(hook, "tc_egress", dash - hook))
		pt->kind = ATTACH_TC_EGRESS;
	else
		return -1;
	at = strchr(dash + 1, '@');
	if (unescape(pt->ifname, sizeof(pt->ifname), dash + 1,
		     at ? (size_t)(at - dash - 1) : strlen(dash + 1)))
		return -1;
	if (at && unescape(pt->netns, sizeof(pt->netns), at + 1, strlen(at + 1)))
		return -1;
	return 0;
}
