/* test_enabled.c: an enabled instance's file: written and read back, listed, and refused at its line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "enabled.h"
#include "state.h"
#include "../tmp_tree.h"

static char root[256];

static void setup_root(void)
{
	tmp_tree_make(root, sizeof(root), "enabled");
	chmod(root, 0755);
	state_set_root(root);
}

static void teardown_root(void)
{
	state_set_root(NULL);
	tmp_tree_remove(root);
}

TestSuite(enabled, .init = setup_root, .fini = teardown_root);

static void need_root(void)
{
	if (geteuid())
		cr_skip_test("state files must be root's: run as root");
}

Test(enabled, written_and_read_back)
{
	struct enabled_conf c = { .profile = "/etc/ironclaw-pipe/profiles/scraper",
				  .nr_points = 3,
				  .points = { { ATTACH_TC_INGRESS, "veth1a@/var/run/netns/cni-1" },
					      { ATTACH_XDP, "veth1a@/var/run/netns/cni-1" },
					      { ATTACH_CGROUP, "sandboxes/scraper" } },
				  .sandbox_netns = "sbx",
				  .sandbox_cgroup = "/sys/fs/cgroup/sandboxes/scraper",
				  .audit = true };
	struct enabled_conf back;
	struct diag d = {};
	char path[STATE_PATH_MAX];

	need_root();
	cr_assert_eq(addr_parse("10.42.0.2", &c.sources[0]), 0);
	cr_assert_eq(addr_parse("fd00:42::2", &c.sources[1]), 0);
	c.nr_sources = 2;
	cr_assert_eq(enabled_write("scraper", &c, &d), 0);
	cr_assert(enabled_exists("scraper") && !enabled_exists("other"));
	cr_assert_eq(enabled_read("scraper", &back, &d), 0, "%s", d.nr ? d.msgs[0] : "");
	enabled_path(path, sizeof(path), "scraper");
	cr_assert_str_eq(back.path, path);
	cr_assert_str_eq(back.profile, c.profile);
	cr_assert_eq(back.nr_points, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(back.points[i].kind, c.points[i].kind);
		cr_assert_str_eq(back.points[i].arg, c.points[i].arg);
	}
	cr_assert_str_eq(back.sandbox_netns, "sbx");
	cr_assert_str_eq(back.sandbox_cgroup, c.sandbox_cgroup);
	cr_assert_eq(back.nr_sources, 2);
	cr_assert_eq(memcmp(back.sources, c.sources, 2 * sizeof(c.sources[0])), 0);
	cr_assert(back.audit);
	cr_assert_eq(enabled_remove("scraper"), 0);
	cr_assert_eq(enabled_remove("scraper"), -ENOENT);
	cr_assert_eq(enabled_read("scraper", &back, &d), -ENOENT);
	diag_free(&d);
}

Test(enabled, listed_in_name_order)
{
	const char *names[] = { "zeta", "alpha", "cni-0123456789abcdef" };
	struct enabled_conf c = { .profile = "/p",
				  .nr_points = 1,
				  .points = { { ATTACH_TC_INGRESS, "host0" } } };
	char got[8][INSTANCE_NAME_MAX], path[STATE_PATH_MAX];
	struct diag d = {};
	FILE *f;

	need_root();
	cr_assert_eq(enabled_list(got, 8, &d), 0, "no directory: nothing enabled");
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(enabled_write(names[i], &c, &d), 0);
	/* what is not an instance's file is passed over */
	state_conf_path(path, sizeof(path), ENABLED_DIR "/Bad.Name.conf");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(enabled_list(got, 8, &d), 3);
	cr_assert_str_eq(got[0], "alpha");
	cr_assert_str_eq(got[1], "cni-0123456789abcdef");
	cr_assert_str_eq(got[2], "zeta");
	cr_assert_eq(enabled_list(got, 2, &d), -E2BIG);
	diag_free(&d);
}

/* a file of these len bytes is refused with this message (line 0: the whole file) */
static void refused_bytes(const char *text, size_t len, int line, const char *msg)
{
	char path[STATE_PATH_MAX], want[STATE_PATH_MAX + 256];
	struct enabled_conf c;
	struct diag d = {};
	FILE *f;

	cr_assert_eq(state_conf_dir_ensure(ENABLED_DIR, &d), 0);
	enabled_path(path, sizeof(path), "bad");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	cr_assert_neq(enabled_read("bad", &c, &d), 0, "accepted: %s", text);
	if (line)
		snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", path, msg);
	cr_assert(d.nr >= 1 && !strncmp(d.msgs[0], want, strlen(want)), "'%s': got '%s', want '%s'",
		  text, d.nr ? d.msgs[0] : "", want);
	diag_free(&d);
}

static void refused(const char *text, int line, const char *msg)
{
	refused_bytes(text, strlen(text), line, msg);
}

Test(enabled, bad_files_refused_at_their_line)
{
	need_root();
	refused("tc-ingress=host0\n", 0, "no profile= line");
	refused("profile=/p\n", 0, "no attach point");
	refused("profile=/p\nprofile=/q\ntc=sbx0\n", 2, "profile given twice");
	refused("# a comment\n\nprofile=/p\ntc=sbx0@pid:12\n", 4,
		"tc: 'pid:12' names a process's namespace");
	refused("profile=/p\ntc=a/b\n", 2, "tc: bad interface 'a/b'");
	refused("profile=/p\nxdp=\n", 2, "xdp: empty");
	refused("profile=/p\ntc=x\nsandbox-netns=pid:1\n", 3,
		"sandbox-netns: 'pid:1' names a process's namespace");
	refused("profile=/p\ntc=x\nsource=10.0.0.0/8\n", 3,
		"source: '10.0.0.0/8' is not one address");
	refused("profile=/p\ntc=x\naudit=1\n", 3, "audit: '1' is not yes or no");
	refused("profile=/p\ntc=x\nport=80\n", 3, "unknown key 'port'");
	refused("profile=/p\ntc=x\nnothing here\n", 3, "expected key=value");
	refused_bytes("profile=/p\ntc=x\0\n", 17, 0, "a NUL byte: not a text file");
}
