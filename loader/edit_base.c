/* edit_base.c: what live edits need of the running generation, and which edits go into it in place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edit_base.h"

const char *edit_way_text(enum edit_way w)
{
	switch (w) {
	case EDIT_IN_PLACE:
		return "in place";
	case EDIT_SWITCH_KIND:
		return "not one address rule (dns line, name rule or host name)";
	case EDIT_SWITCH_TOOL:
		return "a rule for a tool";
	case EDIT_SWITCH_WIDE:
		return "a prefix or a rule for every port";
	case EDIT_SWITCH_STAGE:
		return "its stage's map is not exact";
	case EDIT_SWITCH_BAKED:
		return "its stage carries its rules in its program (16 or fewer)";
	case EDIT_SWITCH_PORTS:
		return "more ports than an edit changes in place";
	}
	return "?";
}

int edit_classify(const struct edit_base *b, const struct profile *want, struct plan *out)
{
	const struct rule *r = want->rules;
	struct diag quiet = {};
	int err;

	memset(out, 0, sizeof(*out));
	if (want->nr_rules != 1 || want->nr_dns_names || want->nr_name_rules || r->host)
		return EDIT_SWITCH_KIND;
	if (r->o.tool)
		return EDIT_SWITCH_TOOL;
	if (rule_all_ports(r) || !addr_is_single(&r->dst))
		return EDIT_SWITCH_WIDE;
	if (r->port_hi - r->port_lo >= EDIT_MAX_ENTRIES)
		return EDIT_SWITCH_PORTS;
	err = plan_build(want, b->stages, b->nr_stages, out, &quiet);
	diag_free(&quiet);
	if (err)
		return err == -ENOMEM ? err : EDIT_SWITCH_STAGE;
	for (size_t i = 0; i < out->nr_entries; i++) {
		const struct plan_entry *e = &out->entries[i];
		int way = e->wide					       ? EDIT_SWITCH_WIDE :
			  b->stages[e->stage].desc.map_kind != STAGE_MAP_EXACT ? EDIT_SWITCH_STAGE :
			  b->baked[e->stage]				       ? EDIT_SWITCH_BAKED :
										 EDIT_IN_PLACE;

		if (way != EDIT_IN_PLACE) {
			plan_free(out);
			return way;
		}
	}
	return EDIT_IN_PLACE;
}

int edit_base_format(const struct edit_base *b, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "token %llu\ngen %u\nxdp %d\nids %lu\nlive %lu %lu\n", b->token, b->gen, b->xdp,
		b->ids, b->live_first, b->live_end);
	if (b->hash[0])
		fprintf(f, "hash %s\n", b->hash);
	for (size_t i = 0; i < b->nr_stages; i++) {
		const struct stage_desc *sd = &b->stages[i].desc;

		fprintf(f, "stage %s %u %u %d %d %u", sd->name, sd->slot, sd->map_kind, b->baked[i],
			b->stages[i].follows_names, sd->nr_classes);
		for (__u32 c = 0; c < sd->nr_classes && c < STAGE_MAX_CLASSES; c++)
			fprintf(f, " %u:%u", sd->classes[c].l4proto, sd->classes[c].port);
		fputc('\n', f);
	}
	return fclose(f) ? -ENOMEM : 0;
}

/* "stage NAME SLOT KIND BAKED FOLLOWS N P:PORT..." */
static int parse_stage(const char *l, struct edit_base *b)
{
	struct stage *st = &b->stages[b->nr_stages];
	struct stage_desc *sd = &st->desc;
	int baked, follows, n, used;

	if (b->nr_stages == MAX_STAGES)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (sscanf(l, "stage %15s %u %u %d %d %u%n", sd->name, &sd->slot, &sd->map_kind, &baked,
		   &follows, &sd->nr_classes, &used) != 6 ||
	    sd->nr_classes > STAGE_MAX_CLASSES)
		return -EINVAL;
	for (__u32 c = 0; c < sd->nr_classes; c++) {
		unsigned int proto, port;

		l += used;
		if (sscanf(l, " %u:%u%n", &proto, &port, &used) != 2 || proto > 255 || port > 65535)
			return -EINVAL;
		sd->classes[c].l4proto = proto;
		sd->classes[c].port = port;
	}
	n = b->nr_stages++;
	b->baked[n] = baked;
	st->follows_names = follows;
	st->origin = "running generation";
	return 0;
}

int edit_base_parse(const char *text, struct edit_base *b)
{
	const char *l = text;
	unsigned int have = 0;
	int xdp;

	memset(b, 0, sizeof(*b));
	for (; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "token %llu", &b->token) == 1)
			have |= 1;
		else if (sscanf(l, "gen %u", &b->gen) == 1)
			have |= 2;
		else if (sscanf(l, "xdp %d", &xdp) == 1 && (b->xdp = xdp, true))
			have |= 4;
		else if (sscanf(l, "ids %lu", &b->ids) == 1)
			have |= 8;
		else if (sscanf(l, "live %lu %lu", &b->live_first, &b->live_end) == 2)
			have |= 16;
		else if (sscanf(l, "hash %39s", b->hash) == 1)
			continue;
		else if (!strncmp(l, "stage ", 6) && parse_stage(l, b))
			return -EINVAL;
	}
	return have == 31 && b->gen <= 1 && b->live_first <= b->live_end && b->live_end <= b->ids ?
		       0 :
		       -EINVAL;
}
