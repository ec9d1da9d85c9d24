/* test_edit_base.c: which live edits go into the running generation in place (loader/edit_base.c), the edit base as text, and the rule list's edits (loader/rule_edits.c). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "edit_base.h"
#include "ironclaw/stage.h"
#include "rule_edits.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int no_resolve(const char *name, struct addr *out, int max, void *ctx)
{
	(void)out;
	(void)max;
	(void)ctx;
	(void)name;
	return -ENOENT;
}

static const struct profile_opts opts = { .resolve = no_resolve };

/* dns (baked), https (a prefix map), internal (every other port, not baked), postgres (baked) */
static void base_setup(struct edit_base *b)
{
	static const struct {
		const char *name;
		__u32 slot, kind;
		bool baked;
		__u8 proto[2];
		__u16 port[2];
		__u32 nr;
	} st[] = {
		{ "dns",
		  SLOT_DNS,
		  STAGE_MAP_EXACT,
		  true,
		  { IPPROTO_UDP, IPPROTO_TCP },
		  { 53, 53 },
		  2 },
		{ "https", SLOT_HTTPS, STAGE_MAP_PREFIX, false, { IPPROTO_TCP }, { 443 }, 1 },
		{ "internal",
		  SLOT_INTERNAL,
		  STAGE_MAP_EXACT,
		  false,
		  { IPPROTO_TCP, IPPROTO_UDP },
		  { 0, 0 },
		  2 },
		{ "postgres", 8, STAGE_MAP_EXACT, true, { IPPROTO_TCP }, { 5432 }, 1 },
	};

	memset(b, 0, sizeof(*b));
	b->token = 77;
	b->ids = 1000;
	b->live_first = 990;
	b->live_end = 1000;
	for (size_t i = 0; i < ARRAY_SIZE(st); i++) {
		struct stage_desc *d = &b->stages[i].desc;

		d->abi = STAGE_DESC_ABI;
		d->api = IRONCLAW_STAGE_API_VERSION;
		snprintf(d->name, sizeof(d->name), "%s", st[i].name);
		d->slot = st[i].slot;
		d->map_kind = st[i].kind;
		d->nr_classes = st[i].nr;
		for (__u32 c = 0; c < st[i].nr; c++) {
			d->classes[c].l4proto = st[i].proto[c];
			d->classes[c].port = st[i].port[c];
		}
		b->stages[i].origin = "test";
		b->baked[i] = st[i].baked;
	}
	b->nr_stages = ARRAY_SIZE(st);
}

Test(edit_base, which_edits_go_in_place)
{
	static const struct {
		const char *line;
		enum edit_way way;
		size_t entries;
	} rows[] = {
		{ "allow udp 10.42.7.11 port 9000", EDIT_IN_PLACE, 1 },
		{ "allow tcp 2001:db8::1 port 8080", EDIT_IN_PLACE, 1 },
		{ "allow tcp 10.42.7.11 port 8080-8083", EDIT_IN_PLACE, 4 },
		{ "allow tcp 10.42.7.11 port 8000-8063", EDIT_IN_PLACE, 64 },
		{ "allow tcp 10.42.7.11 port 8000-8064", EDIT_SWITCH_PORTS, 0 },
		{ "allow udp 10.42.7.11 port 53", EDIT_SWITCH_BAKED, 0 },
		{ "allow tcp 10.42.7.11 port 5432", EDIT_SWITCH_BAKED, 0 },
		{ "allow tcp 10.42.7.11 port 5431-5432", EDIT_SWITCH_BAKED, 0 },
		{ "allow tcp 203.0.113.1 port 443", EDIT_SWITCH_STAGE, 0 },
		{ "allow tcp 10.42.7.0/24 port 8080", EDIT_SWITCH_WIDE, 0 },
		{ "allow tcp 10.42.7.11", EDIT_SWITCH_WIDE, 0 },
		{ "allow tcp 10.42.7.11 port any", EDIT_SWITCH_WIDE, 0 },
		{ "allow tcp 10.42.7.11 port 8080 tool scraper", EDIT_SWITCH_TOOL, 0 },
		{ "allow dns example.com", EDIT_SWITCH_KIND, 0 },
		{ "allow tcp name example.com port 443", EDIT_SWITCH_KIND, 0 },
	};
	struct edit_base b;

	base_setup(&b);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct profile p = {};
		struct diag d = {};
		struct plan pl;
		int way;

		cr_assert_eq(profile_parse_line(&p, "90-live.rules", 1, rows[i].line, &opts, &d), 0,
			     "%s: does not parse", rows[i].line);
		way = edit_classify(&b, &p, &pl);
		cr_expect_eq(way, rows[i].way, "%s: %s, want %s", rows[i].line,
			     way < 0 ? "error" : edit_way_text(way), edit_way_text(rows[i].way));
		cr_expect_eq(pl.nr_entries, rows[i].entries, "%s: %zu entries, want %zu",
			     rows[i].line, pl.nr_entries, rows[i].entries);
		for (size_t e = 0; e < pl.nr_entries; e++)
			cr_expect_eq(pl.entries[e].stage, 2, "%s: entry %zu in stage %u",
				     rows[i].line, e, pl.entries[e].stage);
		plan_free(&pl);
		profile_free(&p);
		diag_free(&d);
	}
}

Test(edit_base, text_round_trip)
{
	struct edit_base b, back;
	char *text = NULL;
	size_t len = 0;

	base_setup(&b);
	b.gen = 1;
	b.xdp = true;
	cr_assert_eq(edit_base_format(&b, &text, &len), 0);
	cr_assert_eq(edit_base_parse(text, &back), 0, "does not read back: %s", text);
	cr_expect_eq(back.token, 77);
	cr_expect_eq(back.gen, 1);
	cr_expect(back.xdp);
	cr_expect_eq(back.ids, 1000);
	cr_expect_eq(back.live_first, 990);
	cr_expect_eq(back.nr_stages, b.nr_stages);
	for (size_t i = 0; i < b.nr_stages; i++) {
		const struct stage_desc *x = &back.stages[i].desc, *y = &b.stages[i].desc;

		/* what placing a rule reads of a stage */
		cr_expect_str_eq(x->name, y->name);
		cr_expect_eq(x->slot, y->slot, "stage %zu: slot", i);
		cr_expect_eq(x->map_kind, y->map_kind, "stage %zu: map kind", i);
		cr_expect_eq(x->nr_classes, y->nr_classes, "stage %zu: classes", i);
		cr_expect_eq(memcmp(x->classes, y->classes, sizeof(x->classes)), 0,
			     "stage %zu: classes differ", i);
		cr_expect_eq(back.baked[i], b.baked[i], "stage %zu: baked", i);
	}
	free(text);
	/* a truncated base (no ids, no live line) is refused: the edit switches */
	cr_expect_eq(edit_base_parse("token 1\ngen 0\nxdp 0\n", &back), -EINVAL);
	cr_expect_eq(edit_base_parse("token 1\ngen 2\nxdp 0\nids 3\nlive 0 0\n", &back), -EINVAL);
}

Test(rule_edits, list_as_edits_make_it)
{
	static const char list[] = "#base 5\n"
				   "0\tinternal\ta.rules\t1\t0\t0\tallow udp 10.0.0.1 port 7\n"
				   "1\tinternal\ta.rules\t2\t0\t0\tallow udp 10.0.0.2 port 7\n"
				   "2\tinternal\tlive\t1\t0\t0\tallow udp 10.0.0.3 port 7\n";
	struct rule_edits e = { .token = 5, .next = 3 };
	char *text = NULL, *merged;
	size_t len = 0, mlen;

	cr_assert_eq(rule_edits_add(&e, "3\tinternal\tlive\t2\t0\t0\tallow udp 10.0.0.4 port 7"),
		     0);
	cr_assert_eq(rule_edits_add(&e, "4\tinternal\tlive\t3\t0\t0\tallow udp 10.0.0.5 port 7"),
		     0);
	e.next = 5;
	cr_assert_eq(rule_edits_revoke(&e, 2), 0);
	cr_assert_eq(rule_edits_revoke(&e, 3), 0); /* added in place: it goes from the added */
	cr_expect_eq(e.nr_revoked, 1);
	cr_expect_eq(e.nr_added, 1);
	cr_assert_eq(rule_edits_format(&e, &text, &len), 0);
	rule_edits_free(&e);
	cr_assert_eq(rule_edits_parse(text, &e), 0, "does not read back: %s", text);
	cr_expect_eq(e.token, 5);
	cr_expect_eq(e.next, 5);
	rule_edits_free(&e);
	merged = rule_list_merge(list, strlen(list), text, &mlen);
	cr_assert_not_null(merged);
	cr_expect_str_eq(merged, "#base 5\n"
				 "0\tinternal\ta.rules\t1\t0\t0\tallow udp 10.0.0.1 port 7\n"
				 "1\tinternal\ta.rules\t2\t0\t0\tallow udp 10.0.0.2 port 7\n"
				 "4\tinternal\tlive\t3\t0\t0\tallow udp 10.0.0.5 port 7\n");
	free(merged);
	/* edits of another switch (its token) are stale: the list as it is */
	text[6] = '6';
	merged = rule_list_merge(list, strlen(list), text, &mlen);
	cr_expect_str_eq(merged, list);
	free(merged);
	free(text);
	cr_expect_eq(rule_list_token(list), 5);
	cr_expect_eq(rule_list_token("0\tinternal\t..."), 0);
}
