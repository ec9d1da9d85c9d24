/* plan_print.c: what check shows: the rules per stage, plain or as one JSON object. */
#include "dns_names.h"
#include "json.h"
#include "learn_rules.h"
#include "plan_print.h"
#include "text.h"

static const char *map_kind_name(const struct stage_desc *sd)
{
	return sd->map_kind == STAGE_MAP_EXACT ? "exact" : "prefix";
}

/* walks the rules stage s holds, each once (a rule of several ports has several entries) */
struct stage_rules {
	size_t i;
	__u32 last;
};

static const struct rule *stage_rule_next(const struct ruleset *rs, __u32 s, struct stage_rules *c)
{
	for (; c->i < rs->plan.nr_entries; c->i++) {
		const struct plan_entry *e = &rs->plan.entries[c->i];

		if (e->stage != s || e->rule == c->last)
			continue;
		c->last = e->rule;
		return &rs->prof.rules[e->rule];
	}
	return NULL;
}

/* prefixes of stage s kept in wide_rules */
static bool stage_has_wide(const struct ruleset *rs, size_t s)
{
	for (size_t i = 0; i < rs->plan.nr_entries; i++)
		if (rs->plan.entries[i].stage == s && rs->plan.entries[i].wide)
			return true;
	return false;
}

static void rule_print(const struct rule *r, FILE *out)
{
	char buf[ADDR_STR_LEN];

	fputs("  ", out);
	text_plain(out, r->o.file);
	fprintf(out, ":%d: allow %s %s port ", r->o.line, l4proto_name(r->l4proto),
		addr_format(&r->dst, buf, sizeof(buf)));
	if (rule_all_ports(r))
		fprintf(out, "any");
	else if (r->port_hi != r->port_lo)
		fprintf(out, "%u-%u", r->port_lo, r->port_hi);
	else
		fprintf(out, "%u", r->port_lo);
	if (r->o.tool)
		fprintf(out, " tool %s", r->o.tool);
	if (r->host)
		fprintf(out, "  (from host name %s)", r->host);
	fprintf(out, "\n");
}

void plan_print(const struct ruleset *rs, FILE *out)
{
	for (size_t s = 0; s < rs->nr_stages; s++) {
		const struct stage_desc *sd = &rs->stages[s].desc;
		struct stage_rules walk = { .last = (__u32)-1 };

		fprintf(out, "stage %s (slot %u, %s rules, ", sd->name, sd->slot,
			map_kind_name(sd));
		text_plain(out, rs->stages[s].origin); /* file names: profile text too */
		fprintf(out, ") claims");
		for (__u32 c = 0; c < sd->nr_classes; c++) {
			if (sd->classes[c].port)
				fprintf(out, " %s/%u", l4proto_name(sd->classes[c].l4proto),
					sd->classes[c].port);
			else
				fprintf(out, " %s/any-other-port",
					l4proto_name(sd->classes[c].l4proto));
		}
		fprintf(out, ":\n");
		for (const struct rule *r; (r = stage_rule_next(rs, s, &walk));)
			rule_print(r, out);
		if (!rs->plan.stage_entries[s] && !stage_has_wide(rs, s))
			fprintf(out, "  (no rules: everything it claims is denied)\n");
	}
	if (rs->plan.all_ports) {
		struct stage_rules walk = { .last = (__u32)-1 };

		fprintf(out, "every port, at every stage:\n");
		for (const struct rule *r; (r = stage_rule_next(rs, PLAN_STAGE_ALL, &walk));)
			rule_print(r, out);
	}
	dns_names_print(&rs->prof, out);
	learn_rules_print(&rs->prof, out);
}

static void diag_json(struct json *j, const char *key, const struct diag *d, int warning)
{
	json_array(j, key);
	for (int i = 0; i < d->nr; i++) {
		const struct diag_part *p = &d->parts[i];

		if (p->warning != warning)
			continue;
		json_object(j, NULL);
		json_str(j, "file", p->file);
		json_int(j, "line", p->line);
		json_str(j, "message", p->body);
		json_end(j);
	}
	json_end(j);
}

static void rule_json(struct json *j, const struct rule *r)
{
	char buf[ADDR_STR_LEN];

	json_object(j, NULL);
	json_str(j, "file", r->o.file);
	json_int(j, "line", r->o.line);
	json_str(j, "text", r->o.text);
	json_str(j, "protocol", l4proto_name(r->l4proto));
	json_str(j, "destination", addr_format(&r->dst, buf, sizeof(buf)));
	json_u64(j, "port_from", r->port_lo);
	json_u64(j, "port_to", r->port_hi);
	json_str(j, "tool", r->o.tool);
	json_str(j, "host", r->host);
	json_end(j);
}

static void stage_json(struct json *j, const struct ruleset *rs, size_t s)
{
	const struct stage_desc *sd = &rs->stages[s].desc;
	struct stage_rules walk = { .last = (__u32)-1 };

	json_object(j, NULL);
	json_str(j, "name", sd->name);
	json_u64(j, "slot", sd->slot);
	json_str(j, "kind", map_kind_name(sd));
	json_str(j, "object", rs->stages[s].origin);
	json_array(j, "classes");
	for (__u32 c = 0; c < sd->nr_classes; c++) {
		json_object(j, NULL);
		json_str(j, "protocol", l4proto_name(sd->classes[c].l4proto));
		json_u64(j, "port", sd->classes[c].port);
		json_end(j);
	}
	json_end(j);
	json_u64(j, "entries", rs->plan.stage_entries[s]);
	json_array(j, "rules");
	for (const struct rule *r; (r = stage_rule_next(rs, s, &walk));)
		rule_json(j, r);
	json_end(j);
	json_end(j);
}

void plan_print_json(const char *dir, const struct ruleset *rs, bool ok, const struct diag *d,
		     FILE *out)
{
	struct json j;

	json_init(&j, out);
	json_object(&j, NULL);
	json_str(&j, "profile", dir);
	json_bool(&j, "valid", ok);
	json_array(&j, "stages");
	for (size_t s = 0; ok && s < rs->nr_stages; s++)
		stage_json(&j, rs, s);
	json_end(&j);
	/* the rules for every port (port_from 0, port_to 65535), which every stage asks */
	json_array(&j, "all_ports");
	if (ok) {
		struct stage_rules walk = { .last = (__u32)-1 };

		for (const struct rule *r; (r = stage_rule_next(rs, PLAN_STAGE_ALL, &walk));)
			rule_json(&j, r);
	}
	json_end(&j);
	json_array(&j, "dns_names");
	for (size_t i = 0; ok && i < rs->prof.nr_dns_names; i++) {
		const struct dns_name_rule *r = &rs->prof.dns_names[i];

		json_object(&j, NULL);
		json_str(&j, "file", r->o.file);
		json_int(&j, "line", r->o.line);
		json_str(&j, "text", r->o.text);
		json_str(&j, "name", r->name);
		json_bool(&j, "wildcard", r->wildcard);
		json_str(&j, "tool", r->o.tool);
		json_end(&j);
	}
	json_end(&j);
	json_array(&j, "dns_qtypes");
	if (ok && rs->prof.nr_dns_names) {
		const __u16 *types;
		size_t n = dns_qtypes_in_force(&rs->prof, &types);

		for (size_t i = 0; i < n; i++)
			json_u64(&j, NULL, types[i]);
	}
	json_end(&j);
	json_u64(&j, "rules", ok ? rs->prof.nr_rules : 0);
	json_u64(&j, "entries", ok ? rs->plan.nr_entries : 0);
	diag_json(&j, "errors", d, 0);
	diag_json(&j, "warnings", d, 1);
	json_end(&j);
}
