/* plan.c: which stage holds which rule, and the class map. */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "policy.h"

static int check_stages(const struct stage *st, size_t n, struct diag *d)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(st[i].desc.name, st[j].desc.name)) {
				diag_error(d, st[i].origin, 0,
					   "stage name '%s' is already taken by %s",
					   st[i].desc.name, st[j].origin);
				err = -EINVAL;
			}
			if (st[i].desc.slot == st[j].desc.slot) {
				diag_error(
					d, st[i].origin, 0,
					"stage '%s' wants slot %u, already taken by stage '%s' (%s)",
					st[i].desc.name, st[i].desc.slot, st[j].desc.name,
					st[j].origin);
				err = -EINVAL;
			}
			for (__u32 a = 0; a < st[i].desc.nr_classes; a++)
				for (__u32 b = 0; b < st[j].desc.nr_classes; b++) {
					const struct stage_class *x = &st[i].desc.classes[a];
					const struct stage_class *y = &st[j].desc.classes[b];
					char port[8] = "any";

					if (x->l4proto != y->l4proto || x->port != y->port)
						continue;
					if (x->port)
						snprintf(port, sizeof(port), "%u", x->port);
					diag_error(
						d, st[i].origin, 0,
						"stage '%s' claims %s/%s, already claimed by stage '%s' (%s)",
						st[i].desc.name, l4proto_name(x->l4proto), port,
						st[j].desc.name, st[j].origin);
					err = -EINVAL;
				}
		}
	}
	return err;
}

int plan_stage_for(const struct plan *pl, __u8 proto, __u16 port)
{
	int any = -1;

	for (size_t i = 0; i < pl->nr_classes; i++) {
		const struct plan_class *c = &pl->classes[i];

		if (c->l4proto != proto)
			continue;
		if (c->port == port)
			return c->stage;
		if (c->port == 0)
			any = c->stage;
	}
	return any;
}

static int push_entry(struct plan *pl, size_t *cap, struct plan_entry e)
{
	if (pl->nr_entries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct plan_entry *n = realloc(pl->entries, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		pl->entries = n;
		*cap = ncap;
	}
	pl->entries[pl->nr_entries++] = e;
	if (e.wide) {
		pl->wide_entries++;
		pl->all_ports |= e.stage == PLAN_STAGE_ALL;
		pl->wide_ports |= e.stage != PLAN_STAGE_ALL;
	} else {
		pl->stage_entries[e.stage]++;
	}
	return 0;
}

/*
 * Each port to the stage that claims it; a prefix there goes to the stage's
 * map when it is a prefix map, else to wide_rules. A rule for every port is
 * one entry of wide_rules, which every stage asks.
 */
static int place_rule(struct plan *pl, size_t *cap, const struct stage *st, __u32 ri,
		      const struct rule *r, struct diag *d)
{
	int s = -1;

	if (rule_all_ports(r)) {
		int err = push_entry(pl, cap,
				     (struct plan_entry){ .stage = PLAN_STAGE_ALL,
							  .rule = ri,
							  .port = POLICY_ALL_PORTS,
							  .wide = true });

		if (err)
			return err;
	}
	for (__u32 port = r->port_lo; !rule_all_ports(r) && port <= r->port_hi; port++) {
		struct plan_entry e = { .rule = ri, .port = port };
		int err;

		s = plan_stage_for(pl, r->l4proto, port);
		if (s < 0) {
			diag_error(d, r->o.file, r->o.line, "no stage takes %s port %u ('%s')",
				   l4proto_name(r->l4proto), port, r->o.text);
			return -EINVAL;
		}
		e.stage = s;
		e.wide = st[s].desc.map_kind == STAGE_MAP_EXACT && !addr_is_single(&r->dst);
		err = push_entry(pl, cap, e);
		if (err)
			return err;
		if (pl->stage_entries[s] > PLAN_MAX_STAGE_ENTRIES) {
			diag_error(d, r->o.file, r->o.line,
				   "stage '%s' would hold more than %u entries", st[s].desc.name,
				   PLAN_MAX_STAGE_ENTRIES);
			return -E2BIG;
		}
	}
	if (pl->wide_entries > PLAN_MAX_STAGE_ENTRIES) {
		diag_error(d, r->o.file, r->o.line,
			   "the prefixes and all-port rules would take more than %u entries",
			   PLAN_MAX_STAGE_ENTRIES);
		return -E2BIG;
	}
	return 0;
}

/* a name rule's ports go to stages that look up learned addresses: any but the dns stage */
static int place_name_rule(struct plan *pl, const struct stage *st, size_t i,
			   const struct name_rule *r, struct diag *d)
{
	for (__u32 port = r->port_lo; port <= r->port_hi; port++) {
		int s = plan_stage_for(pl, r->l4proto, port);

		if (s < 0) {
			diag_error(d, r->o.file, r->o.line, "no stage takes %s port %u ('%s')",
				   l4proto_name(r->l4proto), port, r->o.text);
			return -EINVAL;
		}
		if (!st[s].follows_names) {
			diag_error(d, r->o.file, r->o.line,
				   "%s port %u goes to stage '%s', which does not follow names "
				   "(only stages built with IRONCLAW_STAGE_FOLLOW_NAMES allow the "
				   "addresses DNS answers teach) ('%s')",
				   l4proto_name(r->l4proto), port, st[s].desc.name, r->o.text);
			return -EINVAL;
		}
		if (port == r->port_lo)
			pl->name_stages[i] = s;
	}
	return 0;
}

int plan_build(const struct profile *p, const struct stage *stages, size_t nr_stages,
	       struct plan *out, struct diag *d)
{
	size_t cap = 0, ncls = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = check_stages(stages, nr_stages, d);
	if (err)
		return err;
	for (size_t i = 0; i < nr_stages; i++)
		ncls += stages[i].desc.nr_classes;
	out->classes = calloc(ncls + 1, sizeof(*out->classes));
	out->stage_entries = calloc(nr_stages + 1, sizeof(*out->stage_entries));
	out->name_stages = calloc(p->nr_name_rules + 1, sizeof(*out->name_stages));
	if (!out->classes || !out->stage_entries || !out->name_stages) {
		plan_free(out);
		return -ENOMEM;
	}
	out->nr_stages = nr_stages;
	for (size_t i = 0; i < nr_stages; i++)
		for (__u32 c = 0; c < stages[i].desc.nr_classes; c++)
			out->classes[out->nr_classes++] = (struct plan_class){
				.l4proto = stages[i].desc.classes[c].l4proto,
				.port = stages[i].desc.classes[c].port,
				.stage = i,
			};
	for (size_t i = 0; i < p->nr_rules; i++) {
		int e = place_rule(out, &cap, stages, i, &p->rules[i], d);

		if (e == -ENOMEM) {
			err = e;
			break;
		}
		if (e && !err)
			err = e;
	}
	for (size_t i = 0; err != -ENOMEM && i < p->nr_name_rules; i++) {
		int e = place_name_rule(out, stages, i, &p->name_rules[i], d);

		if (e && !err)
			err = e;
	}
	if (err)
		plan_free(out);
	return err;
}

void plan_free(struct plan *pl)
{
	free(pl->entries);
	free(pl->classes);
	free(pl->stage_entries);
	free(pl->name_stages);
	memset(pl, 0, sizeof(*pl));
}
