/* test_plan.c: rule placement (loader/plan.c) and stage descriptor checks, on hand-made stages. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "plan.h"
#include "ironclaw/stage.h"
#include "stage.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CLASS(proto, p)                                                                            \
	{                                                                                          \
		.l4proto = (proto), .port = (p)                                                    \
	}

/* the built-in stages and the example plug-in, as their descriptors say */
static const struct stage_desc dns_desc = {
	.abi = STAGE_DESC_ABI,
	.api = IRONCLAW_STAGE_API_VERSION,
	.name = "dns",
	.slot = SLOT_DNS,
	.map_kind = STAGE_MAP_EXACT,
	.nr_classes = 2,
	.classes = { CLASS(IPPROTO_UDP, 53), CLASS(IPPROTO_TCP, 53) },
};

static const struct stage_desc https_desc = {
	.abi = STAGE_DESC_ABI,
	.api = IRONCLAW_STAGE_API_VERSION,
	.name = "https",
	.slot = SLOT_HTTPS,
	.map_kind = STAGE_MAP_PREFIX,
	.nr_classes = 1,
	.classes = { CLASS(IPPROTO_TCP, 443) },
};

static const struct stage_desc internal_desc = {
	.abi = STAGE_DESC_ABI,
	.api = IRONCLAW_STAGE_API_VERSION,
	.name = "internal",
	.slot = SLOT_INTERNAL,
	.map_kind = STAGE_MAP_EXACT,
	.nr_classes = 2,
	.classes = { CLASS(IPPROTO_TCP, 0), CLASS(IPPROTO_UDP, 0) },
};

static const struct stage_desc postgres_desc = {
	.abi = STAGE_DESC_ABI,
	.api = IRONCLAW_STAGE_API_VERSION,
	.name = "postgres",
	.slot = 8,
	.map_kind = STAGE_MAP_EXACT,
	.nr_classes = 1,
	.classes = { CLASS(IPPROTO_TCP, 5432) },
};

static char origin_dns[] = "built-in:dns";
static char origin_https[] = "built-in:https";
static char origin_internal[] = "built-in:internal";
static char origin_postgres[] = "/etc/ironclaw/rules.d/40-postgres.bpf.o";

static struct stage make_stage(const struct stage_desc *desc, char *origin)
{
	return (struct stage){ .desc = *desc, .origin = origin };
}

/* index of each stage in the arrays below */
enum { DNS, HTTPS, INTERNAL, POSTGRES };

static struct stage stages4[4], stages3[3];

static void stages_setup(void)
{
	stages4[DNS] = make_stage(&dns_desc, origin_dns);
	stages4[HTTPS] = make_stage(&https_desc, origin_https);
	stages4[INTERNAL] = make_stage(&internal_desc, origin_internal);
	stages4[POSTGRES] = make_stage(&postgres_desc, origin_postgres);
	memcpy(stages3, stages4, sizeof(stages3));
}

TestSuite(plan, .init = stages_setup);

static int no_resolve(const char *name, struct addr *out, int max, void *ctx)
{
	(void)out;
	(void)max;
	(void)ctx;
	cr_assert_fail("plan tests use literal addresses; resolver called for '%s'", name);
	return -ENOENT;
}

static const struct profile_opts opts = { .resolve = no_resolve };

/* a profile from lines of "plan.rules", line numbers from 1 */
static void profile_from(struct profile *p, const char *const *lines, size_t n)
{
	struct diag d = {};

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(profile_parse_line(p, "plan.rules", i + 1, lines[i], &opts, &d), 0,
			     "test profile line \"%s\" refused: %s", lines[i],
			     d.nr ? d.msgs[0] : "?");
	diag_free(&d);
}

/* where single rules go */

static const struct {
	const char *rule;
	const char *with_postgres; /* the stage, with the postgres plug-in */
	const char *without; /* the stage, with the built-in three */
} placement[] = {
	{ "allow udp 10.42.0.53 port 53", "dns", "dns" },
	{ "allow tcp 10.42.0.53 port 53", "dns", "dns" },
	{ "allow tcp 203.0.113.1 port 443", "https", "https" },
	{ "allow tcp 198.51.100.42 port 443", "https", "https" },
	{ "allow tcp 10.42.7.11 port 8080", "internal", "internal" },
	{ "allow tcp 10.42.7.20 port 5432", "postgres", "internal" },
	{ "allow udp 10.42.7.20 port 5432", "internal", "internal" },
	{ "allow udp 203.0.113.1 port 443", "internal", "internal" },
	{ "allow tcp 2001:db8::1 port 443", "https", "https" },
	{ "allow udp 10.0.0.1 port 9999", "internal", "internal" },
	{ "allow tcp 10.0.0.1 port 1", "internal", "internal" },
	{ "allow tcp 10.0.0.1 port 65535", "internal", "internal" },
};

static void check_placement(const char *what, const struct stage *stages, size_t nr,
			    bool with_postgres)
{
	for (size_t i = 0; i < ARRAY_SIZE(placement); i++) {
		const char *want =
			with_postgres ? placement[i].with_postgres : placement[i].without;
		struct profile p;
		struct diag d = {};
		struct plan pl;
		int err;

		profile_from(&p, &placement[i].rule, 1);
		err = plan_build(&p, stages, nr, &pl, &d);
		cr_assert_eq(err, 0, "%s: \"%s\" (%zu stages): error %d:%s", what,
			     placement[i].rule, nr, err, all_msgs(&d));
		cr_assert_eq(d.nr, 0, "%s: \"%s\": messages:%s", what, placement[i].rule,
			     all_msgs(&d));
		cr_assert_eq(pl.nr_entries, 1, "%s: \"%s\": %zu entries, want 1", what,
			     placement[i].rule, pl.nr_entries);
		cr_assert_lt(pl.entries[0].stage, nr, "%s: \"%s\": stage index %u out of range",
			     what, placement[i].rule, pl.entries[0].stage);
		cr_assert_str_eq(stages[pl.entries[0].stage].desc.name, want,
				 "%s: \"%s\" (%zu stages) went to '%s', want '%s'", what,
				 placement[i].rule, nr, stages[pl.entries[0].stage].desc.name,
				 want);
		cr_assert_eq(pl.entries[0].rule, 0, "%s: \"%s\": rule id %u", what,
			     placement[i].rule, pl.entries[0].rule);
		cr_assert_eq(pl.entries[0].port, p.rules[0].port_lo, "%s: \"%s\": entry port %u",
			     what, placement[i].rule, pl.entries[0].port);
		cr_assert_eq(pl.nr_stages, nr, "%s: \"%s\": %zu stages", what, placement[i].rule,
			     pl.nr_stages);
		for (size_t s = 0; s < nr; s++)
			cr_assert_eq(pl.stage_entries[s], s == pl.entries[0].stage,
				     "%s: \"%s\": stage '%s' counts %zu entries", what,
				     placement[i].rule, stages[s].desc.name, pl.stage_entries[s]);
		plan_free(&pl);
		profile_free(&p);
		diag_free(&d);
	}
}

/* the same rules with the built-in stages, with the postgres plug-in, and the plug-in listed first */
static const struct {
	const char *what;
	int order[4]; /* indexes into stages4 */
	size_t nr;
	bool with_postgres;
} placements[] = {
	{ "with the plug-in", { DNS, HTTPS, INTERNAL, POSTGRES }, 4, true },
	{ "built-in only", { DNS, HTTPS, INTERNAL }, 3, false },
	/* the order of the stages does not decide who takes tcp/5432 */
	{ "the plug-in listed first", { POSTGRES, INTERNAL, HTTPS, DNS }, 4, true },
};

Test(plan, placement)
{
	for (size_t r = 0; r < ARRAY_SIZE(placements); r++) {
		struct stage st[4];

		for (size_t i = 0; i < placements[r].nr; i++)
			st[i] = stages4[placements[r].order[i]];
		check_placement(placements[r].what, st, placements[r].nr,
				placements[r].with_postgres);
	}
}

Test(plan, stage_for)
{
	static const struct {
		__u8 proto;
		__u16 port;
		int with_postgres, without, without_internal;
	} cases[] = {
		{ IPPROTO_UDP, 53, DNS, DNS, DNS },
		{ IPPROTO_TCP, 53, DNS, DNS, DNS },
		{ IPPROTO_TCP, 443, HTTPS, HTTPS, HTTPS },
		{ IPPROTO_UDP, 443, INTERNAL, INTERNAL, -1 },
		{ IPPROTO_TCP, 5432, POSTGRES, INTERNAL, -1 },
		{ IPPROTO_TCP, 8080, INTERNAL, INTERNAL, -1 },
		{ IPPROTO_UDP, 9999, INTERNAL, INTERNAL, -1 },
		{ IPPROTO_TCP, 0, INTERNAL, INTERNAL, -1 },
		{ IPPROTO_ICMP, 53, -1, -1, -1 },
	};
	struct stage no_internal[2] = { stages4[DNS], stages4[HTTPS] };
	struct profile p = {};
	struct plan a, b, c;
	struct diag d = {};

	cr_assert_eq(plan_build(&p, stages4, 4, &a, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(plan_build(&p, stages3, 3, &b, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(plan_build(&p, no_internal, 2, &c, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(a.nr_classes, 6, "class map of 4 stages: %zu classes, want 6", a.nr_classes);
	cr_assert_eq(b.nr_classes, 5, "class map of 3 stages: %zu classes, want 5", b.nr_classes);
	cr_assert_eq(a.nr_entries, 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got;

		got = plan_stage_for(&a, cases[i].proto, cases[i].port);
		cr_assert_eq(got, cases[i].with_postgres,
			     "4 stages: proto %u port %u -> %d, want %d", cases[i].proto,
			     cases[i].port, got, cases[i].with_postgres);
		got = plan_stage_for(&b, cases[i].proto, cases[i].port);
		cr_assert_eq(got, cases[i].without, "3 stages: proto %u port %u -> %d, want %d",
			     cases[i].proto, cases[i].port, got, cases[i].without);
		got = plan_stage_for(&c, cases[i].proto, cases[i].port);
		cr_assert_eq(got, cases[i].without_internal,
			     "dns+https: proto %u port %u -> %d, want %d", cases[i].proto,
			     cases[i].port, got, cases[i].without_internal);
	}
	plan_free(&a);
	plan_free(&b);
	plan_free(&c);
}

Test(plan, class_map_contents)
{
	struct profile p = {};
	struct diag d = {};
	struct plan pl;
	bool seen[4] = {};

	cr_assert_eq(plan_build(&p, stages4, 4, &pl, &d), 0, "%s", all_msgs(&d));
	for (size_t i = 0; i < pl.nr_classes; i++) {
		const struct plan_class *c = &pl.classes[i];
		const struct stage_desc *sd;
		bool found = false;

		cr_assert_lt(c->stage, 4, "class %zu: stage %u", i, c->stage);
		sd = &stages4[c->stage].desc;
		for (__u32 k = 0; k < sd->nr_classes; k++)
			found |= sd->classes[k].l4proto == c->l4proto &&
				 sd->classes[k].port == c->port;
		cr_assert(found, "class %u/%u is not one stage '%s' claims", c->l4proto, c->port,
			  sd->name);
		seen[c->stage] = true;
	}
	for (int s = 0; s < 4; s++)
		cr_assert(seen[s], "stage '%s' has no class in the map", stages4[s].desc.name);
	plan_free(&pl);
}

/* ranges */

Test(plan, range_is_one_entry_per_port)
{
	static const char *const lines[] = {
		"allow tcp 10.42.7.11 port 8080",
		"allow tcp 10.0.0.1 port 8000-8003",
		"allow udp 10.42.0.53 port 53",
	};
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, lines, ARRAY_SIZE(lines));
	cr_assert_eq(plan_build(&p, stages3, 3, &pl, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(pl.nr_entries, 6, "%zu entries, want 1 + 4 + 1", pl.nr_entries);
	cr_assert_eq(pl.entries[0].rule, 0);
	cr_assert_eq(pl.entries[0].port, 8080);
	for (int i = 0; i < 4; i++) {
		const struct plan_entry *e = &pl.entries[1 + i];

		cr_assert_eq(e->rule, 1, "entry %d: rule %u, want 1", 1 + i, e->rule);
		cr_assert_eq(e->port, 8000 + i, "entry %d: port %u, want %d", 1 + i, e->port,
			     8000 + i);
		cr_assert_eq(e->stage, INTERNAL, "entry %d: stage %u", 1 + i, e->stage);
	}
	cr_assert_eq(pl.entries[5].rule, 2);
	cr_assert_eq(pl.entries[5].stage, DNS);
	cr_assert_eq(pl.stage_entries[INTERNAL], 5, "internal holds %zu entries, want 5",
		     pl.stage_entries[INTERNAL]);
	cr_assert_eq(pl.stage_entries[DNS], 1);
	cr_assert_eq(pl.stage_entries[HTTPS], 0);
	plan_free(&pl);
	profile_free(&p);
}

Test(plan, range_inside_one_stage_class)
{
	const char *line = "allow tcp 10.0.0.1 port 444-5431"; /* between https and postgres */
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, &line, 1);
	cr_assert_eq(plan_build(&p, stages4, 4, &pl, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(pl.nr_entries, 5431 - 444 + 1, "%zu entries", pl.nr_entries);
	cr_assert_eq(pl.stage_entries[INTERNAL], pl.nr_entries);
	cr_assert_eq(pl.entries[0].port, 444);
	cr_assert_eq(pl.entries[pl.nr_entries - 1].port, 5431);
	plan_free(&pl);
	profile_free(&p);
}

/* a port range over several stages: each port to the stage that claims it */
static const struct {
	const char *rule;
	bool with_postgres;
	size_t dns, https, internal, postgres; /* entries each stage holds */
} spans[] = {
	{ "allow tcp 10.0.0.1 port 400-500", true, 0, 1, 100, 0 },
	{ "allow tcp 10.0.0.1 port 443-444", true, 0, 1, 1, 0 },
	{ "allow tcp 10.0.0.1 port 50-60", false, 1, 0, 10, 0 },
	{ "allow udp 10.0.0.1 port 53-54", false, 1, 0, 1, 0 },
	{ "allow tcp 10.0.0.1 port 5000-6000", true, 0, 0, 1000, 1 },
	{ "allow tcp 10.0.0.1 port 1-442", true, 1, 0, 441, 0 },
};

Test(plan, range_across_stages_split)
{
	for (size_t i = 0; i < ARRAY_SIZE(spans); i++) {
		const char *lines[] = { "allow tcp 10.42.7.11 port 8080", spans[i].rule };
		size_t want[4] = { spans[i].dns, spans[i].https, spans[i].internal + 1,
				   spans[i].postgres };
		struct profile p;
		struct diag d = {};
		struct plan pl;
		int err;

		profile_from(&p, lines, 2);
		err = plan_build(&p, stages4, spans[i].with_postgres ? 4 : 3, &pl, &d);
		cr_assert_eq(err, 0, "\"%s\": error %d:%s", spans[i].rule, err, all_msgs(&d));
		cr_assert_eq(d.nr, 0, "\"%s\":%s", spans[i].rule, all_msgs(&d));
		for (size_t s = 0; s < (spans[i].with_postgres ? 4u : 3u); s++)
			cr_assert_eq(pl.stage_entries[s], want[s],
				     "\"%s\": stage '%s' holds %zu entries, want %zu",
				     spans[i].rule, stages4[s].desc.name, pl.stage_entries[s],
				     want[s]);
		cr_assert_eq(pl.wide_entries, 0);
		for (size_t e = 0; e < pl.nr_entries; e++)
			cr_assert_eq((int)pl.entries[e].stage,
				     plan_stage_for(&pl, p.rules[pl.entries[e].rule].l4proto,
						    pl.entries[e].port),
				     "\"%s\": port %u in the wrong stage", spans[i].rule,
				     pl.entries[e].port);
		plan_free(&pl);
		profile_free(&p);
		diag_free(&d);
	}
}

/* prefixes */

/* a prefix at a stage whose map is exact goes to wide_rules, one entry per port */
Test(plan, prefix_to_exact_stage_goes_wide)
{
	static const struct {
		const char *rule;
		size_t wide, stage_entries; /* entries in wide_rules, in stage's own map */
		int stage;
	} cases[] = {
		{ "allow tcp 10.42.7.0/24 port 8080", 1, 0, INTERNAL },
		{ "allow udp 10.42.0.0/16 port 53", 1, 0, DNS },
		{ "allow tcp 2001:db8::/64 port 5432", 1, 0, POSTGRES },
		{ "allow tcp 10.0.0.0/8 port 442-443", 1, 1, HTTPS }, /* 443 in https's trie */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct profile p;
		struct diag d = {};
		struct plan pl;

		profile_from(&p, &cases[i].rule, 1);
		cr_assert_eq(plan_build(&p, stages4, 4, &pl, &d), 0, "\"%s\":%s", cases[i].rule,
			     all_msgs(&d));
		cr_assert_eq(pl.wide_entries, cases[i].wide, "\"%s\": %zu wide entries",
			     cases[i].rule, pl.wide_entries);
		cr_assert_eq(pl.stage_entries[cases[i].stage], cases[i].stage_entries,
			     "\"%s\": %zu entries in its stage", cases[i].rule,
			     pl.stage_entries[cases[i].stage]);
		cr_assert(pl.wide_ports, "\"%s\": the generation needs GEN_WIDE_PORTS",
			  cases[i].rule);
		cr_assert(!pl.all_ports);
		cr_assert(pl.entries[0].wide);
		cr_assert_neq(pl.entries[0].stage, PLAN_STAGE_ALL);
		plan_free(&pl);
		profile_free(&p);
		diag_free(&d);
	}
}

/* a rule for every port: one entry of wide_rules, port 0, for every stage */
Test(plan, all_ports_one_wide_entry)
{
	static const char *const lines[] = {
		"allow tcp 10.42.7.11",
		"allow udp 10.0.0.0/8 port any tool t1",
		"allow tcp 2001:db8::/32 port any",
	};
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, lines, ARRAY_SIZE(lines));
	cr_assert(rule_all_ports(&p.rules[0]) && rule_all_ports(&p.rules[1]));
	cr_assert_str_eq(p.rules[1].o.tool, "t1");
	cr_assert_eq(plan_build(&p, stages4, 4, &pl, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(pl.nr_entries, 3);
	cr_assert_eq(pl.wide_entries, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(pl.entries[i].stage, PLAN_STAGE_ALL);
		cr_assert_eq(pl.entries[i].port, 0);
		cr_assert(pl.entries[i].wide);
		cr_assert_eq(pl.entries[i].rule, i);
	}
	for (size_t s = 0; s < 4; s++)
		cr_assert_eq(pl.stage_entries[s], 0);
	cr_assert(pl.all_ports && !pl.wide_ports);
	plan_free(&pl);
	profile_free(&p);
	diag_free(&d);
}

Test(plan, prefix_to_prefix_stage_accepted)
{
	static const char *const lines[] = {
		"allow tcp 203.0.113.0/24 port 443", "allow tcp 2001:db8::/32 port 443",
		"allow tcp 10.42.7.11/32 port 8080", /* a /32 is a single address */
	};
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, lines, ARRAY_SIZE(lines));
	cr_assert_eq(plan_build(&p, stages4, 4, &pl, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(pl.nr_entries, 3);
	cr_assert_eq(pl.entries[0].stage, HTTPS);
	cr_assert_eq(pl.entries[1].stage, HTTPS);
	cr_assert_eq(pl.entries[2].stage, INTERNAL);
	plan_free(&pl);
	profile_free(&p);
}

/* rules no stage takes */

Test(plan, no_stage_for_udp)
{
	struct stage st[2] = { stages4[DNS], stages4[HTTPS] };
	static const char *const lines[] = {
		"allow udp 10.42.0.53 port 53",
		"allow udp 10.0.0.1 port 9999",
		"allow tcp 10.42.7.11 port 8080",
	};
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, lines, ARRAY_SIZE(lines));
	cr_assert_eq(plan_build(&p, st, 2, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 2, "both unplaced rules are reported:%s", all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], "plan.rules:2: no stage takes udp port 9999"), "\"%s\"",
		  d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "'allow udp 10.0.0.1 port 9999'"),
		  "\"%s\" does not quote the rule", d.msgs[0]);
	cr_assert(starts_with(d.msgs[1], "plan.rules:3: no stage takes tcp port 8080"), "\"%s\"",
		  d.msgs[1]);
	cr_assert_null(pl.entries);
	profile_free(&p);
	diag_free(&d);
}

Test(plan, no_stages_at_all)
{
	const char *line = "allow tcp 10.42.7.11 port 8080";
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, &line, 1);
	cr_assert_eq(plan_build(&p, NULL, 0, &pl, &d), -EINVAL);
	cr_assert(d.nr == 1 && strstr(d.msgs[0], "no stage takes tcp port 8080"), "%s",
		  all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(plan, every_bad_rule_reported)
{
	static const char *const lines[] = {
		"allow tcp 10.42.7.11 port 443",
		"allow tcp 10.0.0.0/8 port 8080",
		"allow tcp 10.0.0.1 port 400-500",
		"allow tcp 203.0.113.1 port 443",
	};
	struct profile p;
	struct diag d = {};
	struct plan pl;

	profile_from(&p, lines, ARRAY_SIZE(lines));
	/* dns and https only: no stage takes 8080 or 400 */
	cr_assert_eq(plan_build(&p, stages4, 2, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 2, "%d errors, want 2:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], "plan.rules:2: "), "%s", all_msgs(&d));
	cr_assert(starts_with(d.msgs[1], "plan.rules:3: "), "%s", all_msgs(&d));
	cr_assert_null(pl.entries);
	cr_assert_null(pl.classes);
	profile_free(&p);
	diag_free(&d);
}

/* stages that do not fit together */

static char origin_resolver[] = "/etc/ironclaw/rules.d/50-resolver.bpf.o";

Test(plan, two_stages_claim_one_class)
{
	struct stage_desc resolver = dns_desc;
	struct stage st[4];
	struct profile p = {};
	struct diag d = {};
	struct plan pl;

	snprintf(resolver.name, sizeof(resolver.name), "resolver");
	resolver.slot = 9;
	resolver.nr_classes = 1;
	resolver.classes[0] = (struct stage_class)CLASS(IPPROTO_UDP, 53);
	memcpy(st, stages3, sizeof(stages3));
	st[3] = make_stage(&resolver, origin_resolver);
	cr_assert_eq(plan_build(&p, st, 4, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], origin_resolver),
		  "\"%s\" does not start with the new stage's origin", d.msgs[0]);
	cr_assert(
		strstr(d.msgs[0], "stage 'resolver' claims udp/53, already claimed by stage 'dns'"),
		"\"%s\"", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], origin_dns), "\"%s\" does not name %s", d.msgs[0], origin_dns);
	cr_assert_null(pl.classes, "a refused plan keeps no class map");
	diag_free(&d);
}

Test(plan, two_stages_claim_any_port)
{
	struct stage_desc other = internal_desc;
	struct stage st[4];
	struct profile p = {};
	struct diag d = {};
	struct plan pl;

	snprintf(other.name, sizeof(other.name), "catchall");
	other.slot = 12;
	other.nr_classes = 1;
	other.classes[0] = (struct stage_class)CLASS(IPPROTO_UDP, 0);
	memcpy(st, stages3, sizeof(stages3));
	st[3] = make_stage(&other, origin_resolver);
	cr_assert_eq(plan_build(&p, st, 4, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert(strstr(d.msgs[0],
			 "stage 'catchall' claims udp/any, already claimed by stage 'internal'"),
		  "\"%s\"", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], origin_internal), "\"%s\"", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], origin_resolver), "\"%s\"", d.msgs[0]);
	diag_free(&d);
}

Test(plan, one_slot_two_stages)
{
	struct stage_desc pg = postgres_desc;
	struct stage st[4];
	struct profile p = {};
	struct diag d = {};
	struct plan pl;

	pg.slot = SLOT_HTTPS;
	memcpy(st, stages3, sizeof(stages3));
	st[3] = make_stage(&pg, origin_postgres);
	cr_assert_eq(plan_build(&p, st, 4, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], origin_postgres), "\"%s\"", d.msgs[0]);
	cr_assert(
		strstr(d.msgs[0], "stage 'postgres' wants slot 2, already taken by stage 'https'"),
		"\"%s\"", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], origin_https), "\"%s\" does not name %s", d.msgs[0],
		  origin_https);
	diag_free(&d);
}

Test(plan, one_name_two_stages)
{
	struct stage_desc again = https_desc;
	struct stage st[4];
	struct profile p = {};
	struct diag d = {};
	struct plan pl;

	again.slot = 9;
	again.classes[0] = (struct stage_class)CLASS(IPPROTO_TCP, 8443);
	memcpy(st, stages3, sizeof(stages3));
	st[3] = make_stage(&again, origin_postgres);
	cr_assert_eq(plan_build(&p, st, 4, &pl, &d), -EINVAL);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], origin_postgres), "\"%s\"", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "stage name 'https' is already taken by built-in:https"),
		  "\"%s\"", d.msgs[0]);
	diag_free(&d);
}

Test(plan, distinct_stages_fit)
{
	struct stage_desc tls = https_desc;
	struct stage st[5];
	struct profile p = {};
	struct diag d = {};
	struct plan pl;

	/* same port as https, other protocol: no clash */
	snprintf(tls.name, sizeof(tls.name), "quic");
	tls.slot = 15;
	tls.classes[0] = (struct stage_class)CLASS(IPPROTO_UDP, 443);
	memcpy(st, stages4, sizeof(stages4));
	st[4] = make_stage(&tls, origin_resolver);
	cr_assert_eq(plan_build(&p, st, 5, &pl, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(plan_stage_for(&pl, IPPROTO_UDP, 443), 4);
	cr_assert_eq(plan_stage_for(&pl, IPPROTO_TCP, 443), HTTPS);
	plan_free(&pl);
}

/* stage_desc_check */

Test(stage_desc_check, built_in_descriptors_pass)
{
	const struct stage_desc *descs[] = { &dns_desc, &https_desc, &internal_desc,
					     &postgres_desc };

	for (size_t i = 0; i < ARRAY_SIZE(descs); i++) {
		struct diag d = {};
		int err = stage_desc_check(descs[i], "x.bpf.o", &d);

		cr_assert_eq(err, 0, "'%s' refused:%s", descs[i]->name, all_msgs(&d));
		cr_assert_eq(d.nr, 0);
	}
}

enum desc_field { F_ABI, F_NAME, F_SLOT, F_KIND, F_NR_CLASSES, F_PROTO0, F_PROTO1 };

/* the postgres descriptor with one field changed */
static const struct {
	const char *what;
	enum desc_field field;
	__u32 value;
	const char *name; /* for F_NAME: up to STAGE_NAME_LEN bytes, NUL only if shorter */
	const char *says;
} bad_descs[] = {
	{ "abi 2", F_ABI, 2, NULL, "stage descriptor ABI 2, this loader knows 1" },
	{ "abi 0", F_ABI, 0, NULL, "stage descriptor ABI 0" },
	{ "empty name", F_NAME, 0, "", "stage name must be 1-15 characters of [a-z0-9_]" },
	{ "upper case", F_NAME, 0, "Postgres", "stage name must be 1-15 characters of [a-z0-9_]" },
	{ "dash", F_NAME, 0, "pg-main", "stage name must be" },
	{ "space", F_NAME, 0, "pg main", "stage name must be" },
	{ "dot", F_NAME, 0, "pg.main", "stage name must be" },
	{ "no NUL", F_NAME, 0, "aaaaaaaaaaaaaaaa", "stage name must be" },
	{ "slot 0", F_SLOT, 0, NULL, "stage 'postgres' asks for slot 0; slots are 1-15" },
	{ "slot 16", F_SLOT, 16, NULL, "stage 'postgres' asks for slot 16; slots are 1-15" },
	{ "slot 2^32-1", F_SLOT, 0xffffffff, NULL, "asks for slot 4294967295" },
	{ "map kind 0", F_KIND, 0, NULL, "stage 'postgres' has unknown rule map kind 0" },
	{ "map kind 3", F_KIND, 3, NULL, "unknown rule map kind 3" },
	{ "0 classes", F_NR_CLASSES, 0, NULL, "stage 'postgres' claims 0 classes; 1-8 allowed" },
	{ "9 classes", F_NR_CLASSES, 9, NULL, "stage 'postgres' claims 9 classes; 1-8 allowed" },
	{ "icmp", F_PROTO0, IPPROTO_ICMP, NULL,
	  "stage 'postgres' claims protocol 1; only tcp and udp" },
	{ "protocol 0", F_PROTO0, 0, NULL, "claims protocol 0" },
	{ "second class icmpv6", F_PROTO1, IPPROTO_ICMPV6, NULL, "claims protocol 58" },
};

static void set_field(struct stage_desc *desc, size_t i)
{
	size_t len;

	switch (bad_descs[i].field) {
	case F_ABI:
		desc->abi = bad_descs[i].value;
		break;
	case F_NAME:
		len = strlen(bad_descs[i].name);
		cr_assert_leq(len, sizeof(desc->name), "test name too long");
		memset(desc->name, 0, sizeof(desc->name));
		memcpy(desc->name, bad_descs[i].name, len);
		break;
	case F_SLOT:
		desc->slot = bad_descs[i].value;
		break;
	case F_KIND:
		desc->map_kind = bad_descs[i].value;
		break;
	case F_NR_CLASSES:
		desc->nr_classes = bad_descs[i].value;
		break;
	case F_PROTO0:
		desc->classes[0].l4proto = bad_descs[i].value;
		break;
	case F_PROTO1:
		/* the first class is fine: every class is checked */
		desc->nr_classes = 2;
		desc->classes[1] = (struct stage_class)CLASS(bad_descs[i].value, 0);
		break;
	}
}

Test(stage_desc_check, refusals)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_descs); i++) {
		struct stage_desc desc = postgres_desc;
		struct diag d = {};
		int err;

		set_field(&desc, i);
		err = stage_desc_check(&desc, "rules.d/40-pg.bpf.o", &d);
		cr_assert_eq(err, -EINVAL, "%s: error %d, want -EINVAL", bad_descs[i].what, err);
		assert_one_error_at(&d, bad_descs[i].what,
				    "rules.d/40-pg.bpf.o: ", bad_descs[i].says);
		diag_free(&d);
	}
}

Test(stage_desc_check, limits_accepted)
{
	struct stage_desc desc = postgres_desc;
	struct diag d = {};

	snprintf(desc.name, sizeof(desc.name), "a_15_char_name9"); /* 15 characters */
	desc.slot = STAGE_MAX_SLOTS - 1;
	desc.map_kind = STAGE_MAP_PREFIX;
	desc.nr_classes = STAGE_MAX_CLASSES;
	for (int i = 0; i < STAGE_MAX_CLASSES; i++)
		desc.classes[i] =
			(struct stage_class)CLASS(i % 2 ? IPPROTO_UDP : IPPROTO_TCP, 1000 + i);
	cr_assert_eq(stage_desc_check(&desc, "x", &d), 0, "%s", all_msgs(&d));
	/* classes past nr_classes are not looked at */
	desc.nr_classes = 1;
	desc.classes[1].l4proto = IPPROTO_ICMP;
	cr_assert_eq(stage_desc_check(&desc, "x", &d), 0, "%s", all_msgs(&d));
	desc.slot = 1;
	cr_assert_eq(stage_desc_check(&desc, "x", &d), 0, "%s", all_msgs(&d));
	diag_free(&d);
}
