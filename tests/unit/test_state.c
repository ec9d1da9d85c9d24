/* test_state.c: the state layout, its safe opens, the JSON writer, the terminal escaper, the CLI. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "diag.h"
#include "json.h"
#include "state.h"
#include "text.h"

static char root[64];

static void setup_root(void)
{
	snprintf(root, sizeof(root), "/tmp/ic-state-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	chmod(root, 0700);
	state_set_root(root);
}

static void teardown_root(void)
{
	char cmd[128];

	state_set_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = setup_root, .fini = teardown_root);

Test(state, layout_below_one_root)
{
	char p[STATE_PATH_MAX];

	cr_assert_eq(state_path(p, sizeof(p), "sbx", STATE_LIVE_RULES), 0);
	cr_assert(strstr(p, "/run/ironclaw-pipe/sbx/live.d/90-live.rules") &&
			  !strncmp(p, root, strlen(root)),
		  "live rules at %s", p);
	cr_assert_eq(state_pin_path(p, sizeof(p), "sbx", "ctl"), 0);
	cr_assert_str_eq(p, "/sys/fs/bpf/ironclaw/sbx/ctl");
	cr_assert_eq(state_data_path(p, sizeof(p), "sbx"), 0);
	cr_assert(strstr(p, "/var/lib/ironclaw-pipe/sbx"), "data at %s", p);
	cr_assert_eq(state_conf_path(p, sizeof(p), "instances"), 0);
	cr_assert(strstr(p, "/etc/ironclaw-pipe/instances") && !strncmp(p, root, strlen(root)),
		  "configuration at %s", p);
	cr_assert_eq(state_path(p, 8, "sbx", STATE_CONF), -ENAMETOOLONG);
}

Test(state, write_read_and_lock)
{
	char p[STATE_PATH_MAX], *back;
	struct diag d = {};
	struct stat sb;
	size_t len;
	int fd, fd2;

	fd = state_lock("sbx", STATE_LOCK, true, &d);
	cr_assert_geq(fd, 0, "lock: %s", strerror(-fd));
	state_path(p, sizeof(p), "sbx", NULL);
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700, "the instance's directory is root's alone: %o",
		     sb.st_mode & 0777);
	fd2 = state_lock("sbx", STATE_LOCK, false, &d);
	cr_assert_eq(fd2, -EWOULDBLOCK, "a second holder waits: %d", fd2);
	state_path(p, sizeof(p), "sbx", STATE_CONF);
	cr_assert_eq(state_write_file(p, "profile=/x\n", 11), 0);
	back = state_read_file(p, &len);
	cr_assert_not_null(back);
	cr_assert_str_eq(back, "profile=/x\n");
	free(back);
	cr_assert(state_exists("sbx"));
	close(fd);
	state_remove("sbx");
	cr_assert_not(state_exists("sbx"));
	diag_free(&d);
}

Test(state, symlinks_and_foreign_files_refused)
{
	char p[STATE_PATH_MAX], target[STATE_PATH_MAX + 16];
	struct diag d = {};
	size_t len;
	int fd;

	cr_assert_eq(state_dir_ensure("sbx", &d), 0);
	/* a planted symlink as the lock: never followed, nothing created at its target */
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	state_path(p, sizeof(p), "sbx", STATE_LOCK);
	cr_assert_eq(symlink(target, p), 0);
	fd = state_lock("sbx", STATE_LOCK, false, &d);
	cr_assert_eq(fd, -ELOOP, "a symlinked lock is refused: %d", fd);
	cr_assert_neq(access(target, F_OK), 0, "root created a file through the symlink");
	/* a state file others may write is not read */
	state_path(p, sizeof(p), "sbx", STATE_CONF);
	cr_assert_eq(state_write_file(p, "x\n", 2), 0);
	chmod(p, 0666);
	cr_assert_null(state_read_file(p, &len));
	cr_assert_eq(errno, EPERM);
	/* a directory others may write is refused, named */
	state_path(p, sizeof(p), "sbx", NULL);
	chmod(p, 0777);
	cr_assert_eq(state_dir_ensure("sbx", &d), -EPERM);
	cr_assert(d.nr && strstr(d.msgs[d.nr - 1], "only root may write"), "message: %s",
		  d.nr ? d.msgs[d.nr - 1] : "");
	diag_free(&d);
}

Test(state, earlier_layout_moved)
{
	char p[STATE_PATH_MAX], old[STATE_PATH_MAX + 64];
	struct diag d = {};
	size_t len;
	char *conf;

	cr_assert_eq(state_dir_ensure("other", &d), 0); /* the runtime root */
	state_path(p, sizeof(p), NULL, NULL);
	snprintf(old, sizeof(old), "%s/sbx.conf", p);
	cr_assert_eq(state_write_file(old, "profile=/p\n", 11), 0);
	snprintf(old, sizeof(old), "%s/sbx.rules", p);
	cr_assert_eq(state_write_file(old, "0\thttps\n", 8), 0);
	cr_assert_eq(state_migrate("sbx", &d), 1);
	state_path(p, sizeof(p), "sbx", STATE_CONF);
	conf = state_read_file(p, &len);
	cr_assert_not_null(conf, "instance.conf after the move");
	cr_assert_str_eq(conf, "profile=/p\n");
	free(conf);
	cr_assert_neq(access(old, F_OK), 0, "the earlier rule list is gone");
	cr_assert_eq(state_migrate("sbx", &d), 0, "nothing left to move");
	diag_free(&d);
}

Test(state, instance_names)
{
	cr_assert(instance_name_valid("default"));
	cr_assert(instance_name_valid("cni-0123456789abcdef"));
	cr_assert_not(instance_name_valid(""));
	cr_assert_not(instance_name_valid("../etc"));
	cr_assert_not(instance_name_valid("UPPER"));
	cr_assert_not(instance_name_valid("a23456789012345678901234567890123"));
}

/* what a writer printed into a buffer */
static char *printed(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void write_nested(FILE *f)
{
	struct json j;

	json_init(&j, f);
	json_object(&j, NULL);
	json_str(&j, "file", "caf\xe9.rules"); /* Latin-1 byte: no valid UTF-8 */
	json_array(&j, "ports");
	json_u64(&j, NULL, 443);
	json_u64(&j, NULL, 8080);
	json_end(&j);
	json_str(&j, "comm", "a\"b\\c\n\x01\x7f");
	json_str(&j, "tool", NULL);
	json_str(&j, "utf8", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");
	json_str(&j, "cut", "\xe2\x82"); /* a sequence cut short */
	json_bool(&j, "ok", true);
	json_end(&j);
}

Test(json, valid_json_and_utf8_whatever_bytes_come_in)
{
	char *out = printed(write_nested);

	cr_assert_str_eq(out,
			 "{\"file\":\"caf\\u00e9.rules\",\"ports\":[443,8080],"
			 "\"comm\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f\",\"tool\":null,"
			 "\"utf8\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac\",\"cut\":\"\\u00e2\\u0082\","
			 "\"ok\":true}\n");
	free(out);
}

/* the shapes of rules --json and status --json: a top-level array, keys that are data */
static void write_array(FILE *f)
{
	struct json j;

	json_init(&j, f);
	json_array(&j, NULL);
	json_object(&j, NULL);
	json_object(&j, "caf\xe9\x01"); /* a key from data: escaped as a value is */
	json_null(&j, "rule");
	json_int(&j, "line", -3);
	json_raw(&j, "s", "%u.%u", 1, 5);
	json_end(&j);
	json_array(&j, "learned");
	json_end(&j);
	json_end(&j);
	json_end(&j);
	json_end(&j); /* one too many: nothing more */
}

Test(json, top_level_array_and_keys_from_data)
{
	char *out = printed(write_array);

	cr_assert_str_eq(out, "[{\"caf\\u00e9\\u0001\":{\"rule\":null,\"line\":-3,\"s\":1.5},"
			      "\"learned\":[]}]\n");
	free(out);
}

static void write_plain(FILE *f)
{
	text_plain(f, "ok \xc3\xa9 \x1b[31mred\\ \xff");
}

Test(text, control_bytes_and_bad_utf8_never_reach_a_terminal_raw)
{
	char *out = printed(write_plain);

	cr_assert_str_eq(out, "ok \xc3\xa9 \\x1b[31mred\\x5c \\xff");
	free(out);
}

Test(text, utf8_sequences)
{
	cr_assert_eq(utf8_seq_len((const unsigned char *)"a"), 1);
	cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9"), 2);
	cr_assert_eq(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4);
	cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc0\x80"), 0, "overlong NUL");
	cr_assert_eq(utf8_seq_len((const unsigned char *)"\xed\xa0\x80"), 0, "surrogate");
	cr_assert_eq(utf8_seq_len((const unsigned char *)"\xe9"), 0, "a lone Latin-1 byte");
}

Test(diag, a_message_keeps_errno)
{
	struct diag d = {};

	errno = EADDRINUSE;
	diag_error(&d, "f.rules", 3, "something: %s", strerror(errno));
	cr_assert_eq(errno, EADDRINUSE, "errno after diag_error: %d", errno);
	diag_warn(&d, NULL, 0, "and a warning");
	cr_assert_eq(errno, EADDRINUSE);
	diag_free(&d);
}

static int run_nothing(struct cli_args *a)
{
	(void)a;
	return 0;
}

static const struct cli_cmd test_cmds[] = {
	{ "install", run_nothing, OPTS(PROFILE) | OPTS(NAME) | OPTS(SOURCE), false, "", "" },
	{ "status", run_nothing, OPTS(NAME) | OPTS(JSON), false, "", "" },
	{ "revoke", run_nothing, OPTS(NAME), true, "", "" },
};

Test(cli, options_as_data)
{
	char *argv[] = { "install",  "--profile", "rules.d", "--name", "sbx",
			 "--source", "10.42.0.2", "-v",	     NULL };
	struct cli_args a;

	cr_assert_eq(cli_parse(&test_cmds[0], 8, argv, &a), 0);
	cr_assert_str_eq(a.profile, "rules.d");
	cr_assert_str_eq(a.name, "sbx");
	cr_assert_eq(a.nr_sources, 1);
	cr_assert(a.verbose);
}

Test(cli, one_line_for_each_mistake, .init = cr_redirect_stderr)
{
	char *missing[] = { "install", "--profile", NULL };
	char *foreign[] = { "status", "--profile", "x", NULL };
	char *help[] = { "status", "-h", NULL };
	char *args[] = { "revoke", "--name", "sbx", "tcp", "10.0.0.1", NULL };
	struct cli_args a;

	cr_assert_eq(cli_parse(&test_cmds[0], 2, missing, &a), EXIT_USAGE);
	cr_assert_eq(cli_parse(&test_cmds[1], 3, foreign, &a), EXIT_USAGE);
	cr_assert_eq(cli_parse(&test_cmds[1], 2, help, &a), 0);
	cr_assert(a.help);
	cr_assert_eq(cli_parse(&test_cmds[2], 5, args, &a), 0);
	cr_assert_eq(a.argc, 2);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"ironclaw-pipe install: --profile needs an argument (see 'ironclaw-pipe install --help')\n"
		"ironclaw-pipe status: unknown option '--profile' (see 'ironclaw-pipe status --help')\n");
}

/* a source is one address: a prefix, or an interface's address with its prefix, is refused */
Test(cli, a_source_is_one_address, .init = cr_redirect_stderr)
{
	char *prefix[] = { "install", "--source", "10.42.0.2", "--source", "10.42.0.0/24", NULL };
	char *if_addr[] = { "install", "--source", "10.42.0.2/24", NULL };
	char *prefix6[] = { "install", "--source", "fd00:42::/64", NULL };
	char *one[] = { "install", "--source", "10.42.0.2/32", "--source", "fd00:42::2/128", NULL };
	struct cli_args a;

	cr_assert_eq(cli_parse(&test_cmds[0], 5, prefix, &a), EXIT_USAGE);
	cr_assert_eq(cli_parse(&test_cmds[0], 3, if_addr, &a), EXIT_USAGE);
	cr_assert_eq(cli_parse(&test_cmds[0], 3, prefix6, &a), EXIT_USAGE);
	cr_assert_eq(cli_parse(&test_cmds[0], 5, one, &a), 0);
	cr_assert_eq(a.nr_sources, 2);
	cr_assert(addr_is_single(&a.sources[0]) && addr_is_single(&a.sources[1]));
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"ironclaw-pipe install: --source 10.42.0.0/24: a source is one address of the "
		"sandbox's own; a prefix would let it pose as its neighbours (see 'ironclaw-pipe "
		"install --help')\n"
		"ironclaw-pipe install: --source 10.42.0.2/24: a source is one address of the "
		"sandbox's own; a prefix would let it pose as its neighbours (see 'ironclaw-pipe "
		"install --help')\n"
		"ironclaw-pipe install: --source fd00:42::/64: a source is one address of the "
		"sandbox's own; a prefix would let it pose as its neighbours (see 'ironclaw-pipe "
		"install --help')\n");
}

Test(cli, did_you_mean)
{
	const char *near;

	cr_assert_eq(cli_find(test_cmds, 3, "status", &near), &test_cmds[1]);
	cr_assert_null(cli_find(test_cmds, 3, "instal", &near));
	cr_assert_str_eq(near, "install");
	cr_assert_null(cli_find(test_cmds, 3, "revkoe", &near));
	cr_assert_str_eq(near, "revoke");
	cr_assert_null(cli_find(test_cmds, 3, "frobnicate", &near));
	cr_assert_null(near);
}
