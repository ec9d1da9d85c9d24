/*
 * fuzz_profile.c: libFuzzer harness for the profile parser. The input is one .rules file: it is
 * read by the same code as a file of a profile directory (profile_read_rules, after the
 * trusted-file checks, which need a real file), checked as a profile (profile_check), planned
 * against the built-in stages (plan_build) and printed as check prints it. Host names go to a
 * fake resolver: no DNS, no network.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns_names.h"
#include "learn_rules.h"
#include "plan_print.h"
#include "ruleset.h"
#include "stage_builtin.h"

static struct stage builtin[MAX_STAGES];
static int nr_builtin;
static FILE *devnull;

/* a name's addresses from its hash: none, or 1-4 in 198.18.0.0/15 and 2001:db8::/32 */
static int fake_resolve(const char *name, struct addr *out, int max, void *ctx)
{
	uint32_t h = 2166136261u;
	int n;

	(void)ctx;
	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	n = h % 5;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (i % 2 == 0) {
			out[i].family = AF_INET;
			out[i].plen = 32;
			out[i].bytes[0] = 198;
			out[i].bytes[1] = 18 + (h & 1);
			out[i].bytes[2] = h >> 8;
			out[i].bytes[3] = i;
		} else {
			out[i].family = AF_INET6;
			out[i].plen = 128;
			out[i].bytes[0] = 0x20;
			out[i].bytes[1] = 0x01;
			out[i].bytes[2] = 0x0d;
			out[i].bytes[3] = 0xb8;
			memcpy(&out[i].bytes[4], &h, 4);
			out[i].bytes[15] = i;
		}
	}
	return n ? n : -ENOENT;
}

static const struct profile_opts opts = { .resolve = fake_resolve };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag d = {};

	(void)argc;
	(void)argv;
	nr_builtin = stage_builtin(builtin, MAX_STAGES, &d);
	devnull = fopen("/dev/null", "w");
	if (nr_builtin < 0 || !devnull) {
		diag_print(&d, stderr);
		abort();
	}
	diag_free(&d);
	return 0;
}

/* what a profile that loads holds: names whose map keys fit and read back as written */
static void check_loaded(const struct profile *p)
{
	__u8 key[DNS_NAME_KEY_BYTES];
	char back[DNS_NAME_KEY_BYTES + 2];

	for (size_t i = 0; i < p->nr_dns_names; i++) {
		const struct dns_name_rule *r = &p->dns_names[i];

		if (*r->name && dns_rule_name_problem(r->name))
			abort();
		if (dns_name_key_bytes(r, key, sizeof(key)) < 0)
			abort();
	}
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const char *host = p->name_rules[i].host;
		int len = learn_host_key(host, key, sizeof(key));

		if (len < 0 || learn_key_host(key, len, back, sizeof(back)) || strcmp(back, host))
			abort();
	}
	for (size_t i = 0; i < profile_nr_origins(p); i++)
		if (!profile_origin(p, i)->text || !profile_origin(p, i)->file)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs = {};
	struct diag d = {};
	FILE *f;
	int err;

	f = fmemopen(size ? (void *)data : "", size, "r");
	if (!f)
		return 0;
	err = profile_read_rules(&rs.prof, f, "fuzz.rules", &opts, &d);
	fclose(f);
	if (!err)
		err = profile_check(&rs.prof, &d);
	/* a refusal always says why; a profile that loads never carries an error */
	if ((err && err != -ENOMEM && !d.errors) || (!err && d.errors))
		abort();
	if (!err) {
		check_loaded(&rs.prof);
		memcpy(rs.stages, builtin, sizeof(builtin[0]) * nr_builtin);
		rs.nr_stages = nr_builtin;
		err = plan_build(&rs.prof, rs.stages, rs.nr_stages, &rs.plan, &d);
		if (err && !d.errors)
			abort();
		if (!err) {
			plan_print(&rs, devnull);
			plan_print_json("fuzz", &rs, true, &d, devnull);
		}
		plan_free(&rs.plan);
	}
	diag_print(&d, devnull);
	diag_free(&d);
	profile_free(&rs.prof); /* the stages are the built-in ones, kept */
	return 0;
}
