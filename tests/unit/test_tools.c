/* test_tools.c: 'tool NAME' in rules, and tools resolved below the sandbox's cgroup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "profile.h"
#include "diag_helpers.h"
#include "tmp_tree.h"

static struct profile_opts no_dns; /* literal addresses only: never resolves */

Test(tool_grammar, tool_is_kept)
{
	struct profile p = {};
	struct diag d = {};

	cr_assert_eq(profile_parse_line(&p, "t.rules", 1,
					"allow tcp 10.42.7.11 port 8080 tool memscraper", &no_dns,
					&d),
		     0, "%s", all_msgs(&d));
	cr_assert_eq(p.nr_rules, 1);
	cr_assert_str_eq(p.rules[0].o.tool, "memscraper");
	cr_assert_eq(p.rules[0].o.tool_id, 0, "ids are filled at install, not while parsing");
	cr_assert_eq(
		profile_parse_line(&p, "t.rules", 2, "allow tcp 10.42.7.11 port 8080", &no_dns, &d),
		0);
	cr_assert_null(p.rules[1].o.tool);
	profile_free(&p);
	diag_free(&d);
}

Test(tool_grammar, bad_tools)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "allow tcp 10.0.0.1 port 80 tool", "t.rules:3: missing tool name after 'tool'" },
		{ "allow tcp 10.0.0.1 port 80 tool ../x", "t.rules:3: bad tool '../x'" },
		{ "allow tcp 10.0.0.1 port 80 tool ..", "t.rules:3: bad tool '..'" },
		{ "allow tcp 10.0.0.1 port 80 tool a/b", "t.rules:3: bad tool 'a/b'" },
		{ "allow tcp 10.0.0.1 port 80 tool /sys/fs/cgroup/x", "t.rules:3: bad tool '/sys" },
		{ "allow tcp 10.0.0.1 port 80 tools x", "t.rules:3: unknown word 'tools'" },
		{ "allow tcp 10.0.0.1 port 80 tool x y", "t.rules:3: unknown word 'y'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile p = {};
		struct diag d = {};

		cr_expect_neq(profile_parse_line(&p, "t.rules", 3, cases[i].line, &no_dns, &d), 0,
			      "'%s' accepted", cases[i].line);
		cr_expect_eq(p.nr_rules, 0, "'%s' added a rule", cases[i].line);
		cr_expect(d.nr == 1 && starts_with(d.msgs[0], cases[i].msg), "'%s': got%s, want %s",
			  cases[i].line, all_msgs(&d), cases[i].msg);
		profile_free(&p);
		diag_free(&d);
	}
}

Test(tool_grammar, same_rule_for_two_tools_is_no_duplicate)
{
	struct profile p = {};
	struct diag d = {};

	profile_parse_line(&p, "t.rules", 1, "allow tcp 10.0.0.1 port 80 tool a", &no_dns, &d);
	profile_parse_line(&p, "t.rules", 2, "allow tcp 10.0.0.1 port 80 tool b", &no_dns, &d);
	profile_parse_line(&p, "t.rules", 3, "allow tcp 10.0.0.1 port 80", &no_dns, &d);
	cr_assert_eq(profile_check_duplicates(&p, &d), 0, "%s", all_msgs(&d));
	profile_parse_line(&p, "t.rules", 4, "allow tcp 10.0.0.1 port 80 tool b", &no_dns, &d);
	cr_assert_neq(profile_check_duplicates(&p, &d), 0);
	cr_assert(find_msg(&d, "t.rules:4: duplicate of t.rules:2"), "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

/* a stand-in for the sandbox's cgroup: any directory has ids the same way */
static char dir[64];

static void mkdirs(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/icp-tools-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memscraper", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/memscraper/cgroup.procs", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
}

static void rmdirs(void)
{
	tmp_tree_remove(dir);
}

TestSuite(resolve, .init = mkdirs, .fini = rmdirs);

Test(resolve, ids_from_the_directories)
{
	struct sandbox_cgroup sc = {};
	struct profile p = {};
	struct diag d = {};
	char path[128];
	__u64 want;

	snprintf(sc.path, sizeof(sc.path), "%s", dir);
	profile_parse_line(&p, "t.rules", 1, "allow tcp 10.0.0.1 port 80 tool memscraper", &no_dns,
			   &d);
	profile_parse_line(&p, "t.rules", 2, "allow tcp 10.0.0.1 port 81", &no_dns, &d);
	cr_assert_eq(profile_resolve_tools(&p, &sc, &d), 0, "%s", all_msgs(&d));
	snprintf(path, sizeof(path), "%s/memscraper", dir);
	cr_assert_eq(cgroup_id(path, &want), 0);
	cr_assert_neq(want, 0);
	cr_assert_eq(p.rules[0].o.tool_id, want);
	cr_assert_eq(p.rules[1].o.tool_id, 0, "a rule without a tool stays for everyone");
	cr_assert_eq(d.warnings, 0, "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(resolve, missing_tool_and_missing_cgroup)
{
	struct sandbox_cgroup sc = {};
	struct profile p = {};
	struct diag d = {};
	char want[160];

	snprintf(sc.path, sizeof(sc.path), "%s", dir);
	profile_parse_line(&p, "t.rules", 7, "allow tcp 10.0.0.1 port 80 tool ghost", &no_dns, &d);
	cr_assert_neq(profile_resolve_tools(&p, &sc, &d), 0);
	snprintf(want, sizeof(want), "t.rules:7: tool 'ghost': no cgroup %s/ghost", dir);
	cr_assert(find_msg(&d, want), "got%s, want %s", all_msgs(&d), want);
	diag_free(&d);
	cr_assert_neq(profile_resolve_tools(&p, NULL, &d), 0);
	cr_assert(find_msg(&d, "t.rules:7: rule names tool 'ghost': give the sandbox's cgroup"),
		  "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(resolve, warns_when_others_can_join_the_tool)
{
	struct sandbox_cgroup sc = {};
	struct profile p = {};
	struct diag d = {};
	char path[128];

	snprintf(sc.path, sizeof(sc.path), "%s", dir);
	snprintf(path, sizeof(path), "%s/memscraper/cgroup.procs", dir);
	cr_assert_eq(chmod(path, 0666), 0);
	profile_parse_line(&p, "t.rules", 1, "allow tcp 10.0.0.1 port 80 tool memscraper", &no_dns,
			   &d);
	profile_parse_line(&p, "t.rules", 2, "allow tcp 10.0.0.1 port 81 tool memscraper", &no_dns,
			   &d);
	cr_assert_eq(profile_resolve_tools(&p, &sc, &d), 0, "a warning is no error");
	cr_assert_eq(d.warnings, 1, "one warning per tool:%s", all_msgs(&d));
	cr_assert(find_msg(&d, "can move itself into the tool"), "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(resolve, warns_when_others_can_move_within_the_sandbox)
{
	struct sandbox_cgroup sc = {};
	struct profile p = {};
	struct diag d = {};
	char path[128];

	snprintf(sc.path, sizeof(sc.path), "%s", dir);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	close(open(path, O_CREAT | O_WRONLY, 0664));
	cr_assert_eq(chmod(path, 0664), 0);
	profile_parse_line(&p, "t.rules", 1, "allow tcp 10.0.0.1 port 80 tool memscraper", &no_dns,
			   &d);
	cr_assert_eq(profile_resolve_tools(&p, &sc, &d), 0, "a warning is no error");
	cr_assert_eq(d.warnings, 1, "%s", all_msgs(&d));
	cr_assert(find_msg(&d, "the sandbox's cgroup"), "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(audit_grammar, lines)
{
	static const struct {
		const char *line, *msg; /* msg NULL: accepted */
	} cases[] = {
		{ "audit stage https", NULL },
		{ "audit tool memscraper", NULL },
		{ "audit", "t.rules:4: expected 'stage' or 'tool' after 'audit'" },
		{ "audit rule 3", "t.rules:4: expected 'stage' or 'tool' after 'audit'" },
		{ "audit stage", "t.rules:4: missing stage name after 'audit stage'" },
		{ "audit stage Https", "t.rules:4: bad stage name 'Https'" },
		{ "audit tool ../x", "t.rules:4: bad tool name '../x'" },
		{ "audit tool x y", "t.rules:4: unknown word 'y'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile p = {};
		struct diag d = {};
		int err = profile_parse_line(&p, "t.rules", 4, cases[i].line, &no_dns, &d);

		if (!cases[i].msg) {
			cr_expect_eq(err, 0, "'%s' refused:%s", cases[i].line, all_msgs(&d));
			cr_expect_eq(p.nr_audits, 1, "'%s' kept no audit line", cases[i].line);
			cr_expect_eq(p.nr_rules, 0);
		} else {
			cr_expect_neq(err, 0, "'%s' accepted", cases[i].line);
			cr_expect_eq(p.nr_audits, 0);
			cr_expect(d.nr == 1 && starts_with(d.msgs[0], cases[i].msg), "'%s': got%s",
				  cases[i].line, all_msgs(&d));
		}
		profile_free(&p);
		diag_free(&d);
	}
}
