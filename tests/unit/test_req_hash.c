/* test_req_hash.c: an install request as a hash (loader/req_hash.c): what a reload compares. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "req_hash.h"

static int no_resolve(const char *name, struct addr *out, int max, void *ctx)
{
	(void)name;
	(void)out;
	(void)max;
	(void)ctx;
	return -ENOENT;
}

static const struct profile_opts opts = { .resolve = no_resolve };

/* the hash of a request of these lines (file, line numbers from first) */
static void hash_in(const char *file, int first, const char *const *lines, size_t n, bool audit,
		    char out[REQ_HASH_LEN])
{
	static const char elf[] = "dispatcher";
	struct profile p = {};
	struct diag d = {};
	struct install_req rq = { .name = "t", .profile = &p, .audit_all = audit };

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(profile_parse_line(&p, file, first + i, lines[i], &opts, &d), 0, "%s",
			     lines[i]);
	req_hash(&rq, elf, sizeof(elf), out);
	profile_free(&p);
	diag_free(&d);
}

/* in file "a.rules", line numbers from 1 */
static void hash_of(const char *const *lines, size_t n, bool audit, char out[REQ_HASH_LEN])
{
	hash_in("a.rules", 1, lines, n, audit, out);
}

Test(req_hash, same_request_same_hash_any_change_another)
{
	static const char *const base[] = { "allow udp 10.0.0.1 port 7",
					    "allow tcp 10.0.0.2 port 80" };
	static const char *const port[] = { "allow udp 10.0.0.1 port 8",
					    "allow tcp 10.0.0.2 port 80" };
	static const char *const order[] = { "allow tcp 10.0.0.2 port 80",
					     "allow udp 10.0.0.1 port 7" };
	static const char *const text[] = { "allow udp 10.0.0.1 port 7",
					    "allow tcp 10.0.0.2 port 0080" };
	static const char *const tool[] = { "allow udp 10.0.0.1 port 7",
					    "allow tcp 10.0.0.2 port 80 tool t" };
	static const char *const more[] = { "allow udp 10.0.0.1 port 7",
					    "allow tcp 10.0.0.2 port 80", "allow dns example.com" };
	char a[REQ_HASH_LEN], b[REQ_HASH_LEN];

	hash_of(base, 2, false, a);
	hash_of(base, 2, false, b);
	cr_expect_str_eq(a, b);
	hash_of(port, 2, false, b);
	cr_expect_str_neq(a, b, "a port changed");
	hash_of(order, 2, false, b);
	cr_expect_str_neq(a, b, "the rules' order (their counters' ids) changed");
	hash_of(more, 3, false, b);
	cr_expect_str_neq(a, b, "an 'allow dns' line added");
	hash_of(base, 2, true, b);
	cr_expect_str_neq(a, b, "audit mode");
	/* what the rule list and the counters carried over name a rule by */
	hash_in("b.rules", 1, base, 2, false, b);
	cr_expect_str_neq(a, b, "the file's name changed");
	hash_in("a.rules", 2, base, 2, false, b);
	cr_expect_str_neq(a, b, "the lines moved");
	hash_of(text, 2, false, b);
	cr_expect_str_neq(a, b, "a rule's text changed");
	hash_of(tool, 2, false, b);
	cr_expect_str_neq(a, b, "a rule for a tool");
}
