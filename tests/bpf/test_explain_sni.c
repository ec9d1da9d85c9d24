/*
 * test_explain_sni.c: 'explain ... server_name NAME' (loader/explain.c) on a
 * test instance that learned a name: the SYN and then the ClientHello run
 * through a dry-run copy of the real pipeline, whose https stage checks the
 * name (docs/sni.md): what explain prints and returns, and that it records
 * nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "explain.h"
#include "learn_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name api.example.com port 443",
	"allow tcp name www.example.com port 443 sni off",
	"allow tcp 10.42.9.9 port 443",
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

static char stage_dir[] = "/tmp/ironclaw-explain-sniXXXXXX";

static void learn(const char *name, const char *addr, uint16_t sport)
{
	FRAME(m);

	query(name, 1, sport);
	a_answer(&m, name, 60, addr);
	expect_answer(name, "10.42.0.53", sport, &m, LEARN_EV_LEARNED, 1, 1);
}

static void setup(void)
{
	snprintf(inst, sizeof(inst), "explainsni%d", getpid());
	install_lines(profile, ARRAY_SIZE(profile));
	learn("api.example.com", "10.42.9.1", 33001);
	learn("www.example.com", "10.42.9.2", 33002);
	cr_assert_not_null(mkdtemp(stage_dir), "a directory without stage objects");
}

static void teardown(void)
{
	remove_instance();
	rmdir(stage_dir);
}

TestSuite(explain_sni, .init = setup, .fini = teardown);

/* explain's output and return for a flow to dst:443 whose hello names server_name */
static int explain(const char *dst, const char *server_name, bool json, char **text)
{
	struct explain_query q = { .l4proto = IPPROTO_TCP,
				   .port = 443,
				   .server_name = server_name,
				   .profile_dir = stage_dir,
				   .sandbox_cgroup = "" };
	struct diag d = {};
	size_t size;
	FILE *out = open_memstream(text, &size);
	int ret;

	cr_assert_not_null(out);
	cr_assert_eq(addr_parse(dst, &q.dst), 0);
	ret = explain_run(inst, &q, out, json, &d);
	fclose(out);
	diag_print(&d, stderr);
	diag_free(&d);
	return ret;
}

#define API_RULE "test.rules:2: allow tcp name api.example.com port 443\n"

Test(explain_sni, allowed_name)
{
	char *text = NULL;

	cr_assert_eq(explain("10.42.9.1", "api.example.com", false, &text), 0, "%s", text);
	cr_expect_str_eq(text, "tcp 10.42.0.2 port 40000 -> 10.42.9.1 port 443, sent by no tool\n"
			       "hook        verdict     reason          stage      rule\n"
			       "tc          allow       rule            https      " API_RULE
			       "then a TLS ClientHello with server_name api.example.com\n"
			       "hook        verdict     reason          stage      rule\n"
			       "tc          allow       rule            https      " API_RULE);
	free(text);
}

Test(explain_sni, denied_name)
{
	char *text = NULL;
	__u64 before[REASON_MAX], after[REASON_MAX];

	counters(before);
	cr_assert_eq(explain("10.42.9.1", "evil.example", false, &text), 1, "%s", text);
	cr_expect(strstr(text, "then a TLS ClientHello with server_name evil.example\n"
			       "hook        verdict     reason          stage      rule\n"
			       "tc          deny        sni             https      " API_RULE),
		  "%s", text);
	free(text);
	/* a dry run: nothing counted */
	counters(after);
	cr_expect_eq(memcmp(before, after, sizeof(before)), 0, "explain counted a packet");
	cr_assert_eq(explain("10.42.9.1", "evil.example", true, &text), 1);
	cr_expect(strstr(text, "\"verdict\":\"deny\""), "%s", text);
	cr_expect(strstr(text, "\"client_hello\":{\"server_name\":\"evil.example\",\"hooks\":[{"
			       "\"hook\":\"tc\",\"verdict\":\"deny\",\"reason\":\"sni\""),
		  "%s", text);
	free(text);
}

/* 'sni off' and a rule by address: any name; a SYN denied: no hello */
Test(explain_sni, unchecked_and_not_sent)
{
	char *text = NULL;

	cr_assert_eq(explain("10.42.9.2", "evil.example", false, &text), 0, "%s", text);
	cr_expect(strstr(text,
			 "server_name evil.example\nhook        verdict     reason          "
			 "stage      rule\ntc          allow       rule            https      "
			 "test.rules:3: "),
		  "%s", text);
	free(text);
	cr_assert_eq(explain("10.42.9.9", "evil.example", false, &text), 0, "%s", text);
	free(text);
	cr_assert_eq(explain("10.42.9.3", "api.example.com", false, &text), 1, "%s", text);
	cr_expect(strstr(text, "\ntc          deny        no_rule         https      -\n"
			       "then a TLS ClientHello with server_name api.example.com: not sent, "
			       "the SYN is denied\n"),
		  "%s", text);
	free(text);
}
