/* test_stage_file.c: stage objects read from a profile (stage_from_file): who may supply one. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include "ironclaw/stage.h"
#include "stage.h"
#include "diag_helpers.h"
#include "tmp_tree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* built by `make all`; the tests run from the repository root */
#define DNS_OBJ "build/progs/stage_dns.bpf.o"
#define HTTPS_OBJ "build/progs/stage_https.bpf.o"
#define INTERNAL_OBJ "build/progs/stage_internal.bpf.o"
#define POSTGRES_OBJ "build/examples/stage_postgres.bpf.o"
#define DISPATCHER_OBJ "build/progs/dispatcher.bpf.o"
#define FLOW_OBJ "build/tests/stage_flow.bpf.o" /* a plug-in stage that follows no names */

static char tmpdir[256];

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void setup(void)
{
	/* libbpf explains why junk is not an object; the diag message is what we check */
	libbpf_set_print(quiet_libbpf);
	tmp_tree_make(tmpdir, sizeof(tmpdir), "stage");
}

static void teardown(void)
{
	if (tmpdir[0])
		tmp_tree_remove(tmpdir);
	tmpdir[0] = '\0';
}

TestSuite(stage_file, .init = setup, .fini = teardown);

/* a skipped test does not reach .fini: clean up first */
#define skip_test(...)                                                                             \
	do {                                                                                       \
		teardown();                                                                        \
		cr_skip_test(__VA_ARGS__);                                                         \
	} while (0)

static const char *path_of(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void require_root(void)
{
	if (geteuid() != 0)
		skip_test("needs root: the test makes root-owned and other-owned files");
}

/* name in tmpdir with the given bytes, owner and exact mode; returns its path */
static char *put_file(const char *name, const void *data, size_t len, uid_t uid, mode_t mode)
{
	char *path = strdup(path_of(name));
	int fd;

	cr_assert_not_null(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s: %s", path, strerror(errno));
	if (uid != geteuid())
		cr_assert_eq(fchown(fd, uid, -1), 0, "chown %s: %s", path, strerror(errno));
	/* after the chown, which may clear mode bits; fchmod ignores the umask */
	cr_assert_eq(fchmod(fd, mode), 0, "chmod %s: %s", path, strerror(errno));
	cr_assert_eq(close(fd), 0);
	return path;
}

/* the bytes of a built object, or skip when it has not been built */
static void *read_obj(const char *obj, size_t *len)
{
	FILE *f = fopen(obj, "rb");
	void *buf;
	long n;

	if (!f)
		skip_test("%s not built (run `make all` and the test from the repository root)",
			  obj);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0, "%s is empty", obj);
	rewind(f);
	buf = malloc(n);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n, "read %s", obj);
	fclose(f);
	*len = n;
	return buf;
}

/*
 * The DNS stage when built, so that only the file's owner or mode can be the
 * reason for a refusal; some bytes otherwise (those checks come first).
 */
static void *valid_or_junk(size_t *len)
{
	static const char junk[] = "\177ELF, or so it says";
	FILE *f = fopen(DNS_OBJ, "rb");

	if (f) {
		fclose(f);
		return read_obj(DNS_OBJ, len);
	}
	*len = sizeof(junk);
	return memcpy(malloc(sizeof(junk)), junk, sizeof(junk));
}

/* stage_from_file(path) must fail, with one message "path: ..." saying says */
static void expect_refused(const char *path, const char *says, const char *says_too)
{
	struct stage st;
	struct diag d = {};
	size_t plen = strlen(path);
	int err;

	memset(&st, 0xa5, sizeof(st));
	err = stage_from_file(path, &st, &d);
	cr_assert_lt(err, 0, "%s was accepted (error %d)", path, err);
	cr_assert_eq(d.errors, 1, "%s: %d errors, want 1:%s", path, d.errors, all_msgs(&d));
	cr_assert(!strncmp(d.msgs[0], path, plen) && !strncmp(d.msgs[0] + plen, ": ", 2),
		  "\"%s\" does not start with \"%s: \"", d.msgs[0], path);
	cr_assert(strstr(d.msgs[0], says) || (says_too && strstr(d.msgs[0], says_too)),
		  "\"%s\" says neither \"%s\" nor \"%s\"", d.msgs[0], says,
		  says_too ? says_too : "-");
	cr_assert_null(st.origin, "a refused stage keeps an origin");
	cr_assert_null(st.elf, "a refused stage keeps its bytes");
	diag_free(&d);
}

/* ownership and mode: refused before the content is looked at */

static const struct {
	const char *file; /* each row's own: put_file makes a new file */
	uid_t uid;
	mode_t mode;
	const char *says;
} refused_owner_mode[] = {
	{ "40-dns.bpf.o", 0, 0666, "writable by others: refused" },
	{ "41-dns.bpf.o", 0, 0664, "writable by its group: refused" },
	{ "42-dns.bpf.o", 1000, 0644, "owned by uid 1000, not root: refused" },
};

Test(stage_file, writable_or_owned_by_others)
{
	size_t len;
	void *obj;

	require_root();
	obj = valid_or_junk(&len);
	for (size_t i = 0; i < ARRAY_SIZE(refused_owner_mode); i++) {
		char *path = put_file(refused_owner_mode[i].file, obj, len,
				      refused_owner_mode[i].uid, refused_owner_mode[i].mode);

		expect_refused(path, refused_owner_mode[i].says, NULL);
		free(path);
	}
	free(obj);
}

Test(stage_file, owned_by_other_user_and_writable)
{
	static const char junk[] = "\177ELF but not really";
	char *path;

	require_root();
	path = put_file("40-x.bpf.o", junk, sizeof(junk), 1000, 0666);
	expect_refused(path, "not root", NULL);
	free(path);
}

/* content */

Test(stage_file, not_a_bpf_object)
{
	static const char text[] = "allow tcp 10.42.7.11 port 8080\n";
	char *path;

	path = put_file("40-text.bpf.o", text, sizeof(text) - 1, geteuid(), 0644);
	if (geteuid() != 0) {
		free(path);
		skip_test("needs root: non-root files are refused before their content is read");
	}
	expect_refused(path, "not a BPF object", "no stage descriptor");
	free(path);
}

Test(stage_file, truncated_object)
{
	size_t len;
	void *obj;
	char *path;

	require_root();
	obj = read_obj(DNS_OBJ, &len);
	path = put_file("40-dns.bpf.o", obj, len / 2, 0, 0644);
	expect_refused(path, "not a BPF object", "no stage descriptor");
	free(path);
	free(obj);
}

Test(stage_file, bpf_object_without_descriptor)
{
	size_t len;
	void *obj;
	char *path;

	require_root();
	obj = read_obj(DISPATCHER_OBJ, &len);
	path = put_file("40-dispatcher.bpf.o", obj, len, 0, 0644);
	expect_refused(path, "no stage descriptor", NULL);
	free(path);
	free(obj);
}

Test(stage_file, empty_file)
{
	char *path;

	require_root();
	path = put_file("40-empty.bpf.o", "", 0, 0, 0644);
	expect_refused(path, "size 0 out of range", NULL);
	free(path);
}

Test(stage_file, directory)
{
	cr_assert_eq(mkdir(path_of("40-dir.bpf.o"), 0755), 0, "mkdir: %s", strerror(errno));
	expect_refused(path_of("40-dir.bpf.o"), "not a regular file", NULL);
}

Test(stage_file, missing)
{
	expect_refused(path_of("40-none.bpf.o"), "cannot read stage object", NULL);
}

Test(stage_file, symlink_not_followed)
{
	size_t len;
	void *obj;
	char *path;

	require_root();
	obj = read_obj(DNS_OBJ, &len);
	path = put_file("real.bpf.o", obj, len, 0, 0644);
	cr_assert_eq(symlink(path, path_of("40-link.bpf.o")), 0, "symlink: %s", strerror(errno));
	/* the link itself is root's; what it points to could change under us */
	expect_refused(path_of("40-link.bpf.o"), "cannot read stage object", NULL);
	free(path);
	free(obj);
}

/* one symlink policy for a profile's files: the message says it, as a rules file's does */
Test(stage_file, symlink_refused_with_the_policy)
{
	size_t len;
	void *obj;
	char *path;

	require_root();
	obj = valid_or_junk(&len);
	path = put_file("real.bpf.o", obj, len, 0, 0644);
	cr_assert_eq(symlink(path, path_of("40-link.bpf.o")), 0, "symlink: %s", strerror(errno));
	expect_refused(path_of("40-link.bpf.o"),
		       "cannot read stage object: a symlink, refused (no file of a profile is read "
		       "through a symlink",
		       NULL);
	free(path);
	free(obj);
}

/* real stage objects */

static const struct {
	const char *obj;
	const char *name;
	__u32 slot;
	__u32 map_kind;
	__u32 nr_classes;
	struct stage_class classes[2];
	bool follows_names; /* built with IRONCLAW_STAGE_FOLLOW_NAMES */
} real[] = {
	{ DNS_OBJ,
	  "dns",
	  SLOT_DNS,
	  STAGE_MAP_EXACT,
	  2,
	  { { IPPROTO_UDP, 0, 53 }, { IPPROTO_TCP, 0, 53 } },
	  false },
	{ HTTPS_OBJ, "https", SLOT_HTTPS, STAGE_MAP_PREFIX, 1, { { IPPROTO_TCP, 0, 443 } }, true },
	{ INTERNAL_OBJ,
	  "internal",
	  SLOT_INTERNAL,
	  STAGE_MAP_EXACT,
	  2,
	  { { IPPROTO_TCP, 0, 0 }, { IPPROTO_UDP, 0, 0 } },
	  true },
	{ POSTGRES_OBJ, "postgres", 8, STAGE_MAP_EXACT, 1, { { IPPROTO_TCP, 0, 5432 } }, true },
};

static void check_real(size_t i)
{
	struct stage st;
	struct diag d = {};
	size_t len;
	void *obj;
	char *path;
	int err;

	require_root();
	obj = read_obj(real[i].obj, &len);
	path = put_file(strrchr(real[i].obj, '/') + 1, obj, len, 0, 0644);
	err = stage_from_file(path, &st, &d);
	cr_assert_eq(err, 0, "%s refused (%d):%s", real[i].obj, err, all_msgs(&d));
	cr_assert_eq(d.nr, 0, "%s:%s", real[i].obj, all_msgs(&d));
	cr_assert_str_eq(st.desc.name, real[i].name, "%s: name '%s'", real[i].obj, st.desc.name);
	cr_assert_eq(st.desc.abi, STAGE_DESC_ABI);
	cr_assert_eq(st.desc.api, IRONCLAW_STAGE_API_VERSION, "%s: stage API version %u",
		     real[i].obj, st.desc.api);
	cr_assert_eq(st.desc.slot, real[i].slot, "%s: slot %u", real[i].obj, st.desc.slot);
	cr_assert_eq(st.desc.map_kind, real[i].map_kind, "%s: map kind %u", real[i].obj,
		     st.desc.map_kind);
	cr_assert_eq(st.desc.nr_classes, real[i].nr_classes, "%s: %u classes", real[i].obj,
		     st.desc.nr_classes);
	for (__u32 c = 0; c < real[i].nr_classes; c++) {
		cr_assert_eq(st.desc.classes[c].l4proto, real[i].classes[c].l4proto,
			     "%s: class %u protocol %u", real[i].obj, c,
			     st.desc.classes[c].l4proto);
		cr_assert_eq(st.desc.classes[c].port, real[i].classes[c].port,
			     "%s: class %u port %u", real[i].obj, c, st.desc.classes[c].port);
	}
	cr_assert_eq(st.follows_names, real[i].follows_names, "%s: follows names: %d", real[i].obj,
		     st.follows_names);
	cr_assert_str_eq(st.origin, path, "origin '%s'", st.origin);
	cr_assert(st.owns_elf, "a stage read from a file owns its bytes");
	cr_assert_eq(st.elf_sz, len, "%zu bytes kept, want %zu", st.elf_sz, len);
	cr_assert_arr_eq(st.elf, obj, len, "the kept bytes are not the file's");
	stage_free(&st);
	cr_assert_null(st.origin);
	diag_free(&d);
	free(path);
	free(obj);
}

/* dns, https, internal and the postgres plug-in */
Test(stage_file, real_stages)
{
	for (size_t i = 0; i < ARRAY_SIZE(real); i++)
		check_real(i);
}

Test(stage_file, read_only_modes_accepted)
{
	static const mode_t modes[] = { 0400, 0444, 0600, 0755, 0644 | S_ISVTX };
	size_t len;
	void *obj;

	require_root();
	obj = read_obj(DNS_OBJ, &len);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct stage st;
		struct diag d = {};
		char name[32];
		char *path;

		snprintf(name, sizeof(name), "dns-%04o.bpf.o", (unsigned)modes[i]);
		path = put_file(name, obj, len, 0, modes[i]);
		cr_assert_eq(stage_from_file(path, &st, &d), 0, "mode %04o refused:%s",
			     (unsigned)modes[i], all_msgs(&d));
		stage_free(&st);
		diag_free(&d);
		free(path);
	}
	free(obj);
}

/* the stage API version (include/ironclaw/stage.h) */

/* a descriptor as STAGE_DESCRIBE writes it, of the given API version */
static struct stage_desc versioned_desc(__u16 api)
{
	struct stage_desc desc = {
		.abi = STAGE_DESC_ABI,
		.api = api,
		.name = "postgres",
		.slot = 8,
		.map_kind = STAGE_MAP_EXACT,
		.nr_classes = 1,
		.classes = { { IPPROTO_TCP, 0, 5432 } },
	};

	return desc;
}

/* stage_desc_check(desc) refuses with one message that names every one of says[] */
static void expect_version_refused(const struct stage_desc *desc, const char *const *says, size_t n)
{
	struct diag d = {};

	cr_assert_lt(stage_desc_check(desc, "50-postgres.bpf.o", &d), 0, "accepted");
	cr_assert_eq(d.errors, 1, "%d errors:%s", d.errors, all_msgs(&d));
	for (size_t i = 0; i < n; i++)
		cr_assert(strstr(d.msgs[0], says[i]), "\"%s\" does not say \"%s\"", d.msgs[0],
			  says[i]);
	diag_free(&d);
}

/* an object built before versions: its first word was __u32 abi = 1, which is version 0 */
Test(stage_file, api_version_0_refused)
{
	struct stage_desc desc = versioned_desc(0);
	__u32 old_abi = 1;
	char needed[64];
	const char *says[] = { "50-postgres.bpf.o: ",
			       "stage 'postgres'",
			       "stage API version 0 (before versions)",
			       needed,
			       "rebuild it with include/ironclaw/stage.h",
			       "clang -O2 -g -target bpf" };

	memcpy(&desc, &old_abi, sizeof(old_abi)); /* as the old layout wrote it, on any host */
	snprintf(needed, sizeof(needed), "needs version %u", IRONCLAW_STAGE_API_VERSION);
	cr_assert_eq(stage_desc_api(&desc), 0);
	expect_version_refused(&desc, says, ARRAY_SIZE(says));
}

Test(stage_file, api_version_other_refused)
{
	struct stage_desc desc = versioned_desc(IRONCLAW_STAGE_API_VERSION + 1);
	char has[64], needed[64];
	const char *says[] = { "stage 'postgres'", has, needed, "-I$IRONCLAW/include" };

	snprintf(has, sizeof(has), "built against stage API version %u;",
		 IRONCLAW_STAGE_API_VERSION + 1);
	snprintf(needed, sizeof(needed), "needs version %u", IRONCLAW_STAGE_API_VERSION);
	expect_version_refused(&desc, says, ARRAY_SIZE(says));
}

/* an old object whose name is not a stage name is still refused for its version */
Test(stage_file, api_version_0_bad_name)
{
	struct stage_desc desc = versioned_desc(0);
	__u32 old_abi = 1;
	const char *says[] = { "the stage was built against stage API version 0" };

	memcpy(&desc, &old_abi, sizeof(old_abi));
	memcpy(desc.name, "Bad-Name", 9);
	expect_version_refused(&desc, says, ARRAY_SIZE(says));
}

Test(stage_file, api_version_current_accepted)
{
	struct stage_desc desc = versioned_desc(IRONCLAW_STAGE_API_VERSION);
	struct diag d = {};

	cr_assert_eq(stage_desc_api(&desc), IRONCLAW_STAGE_API_VERSION);
	cr_assert_eq(stage_desc_check(&desc, "50-postgres.bpf.o", &d), 0, "refused:%s",
		     all_msgs(&d));
	cr_assert_eq(d.nr, 0, "%s", all_msgs(&d));
}

/* a real object of version 0: the example stage with its first word as objects had it */
Test(stage_file, api_version_0_object_refused)
{
	struct stage_desc desc;
	size_t len, at = 0;
	__u32 old_abi = 1;
	void *obj;
	char *path;

	require_root();
	obj = read_obj(POSTGRES_OBJ, &len);
	/* the descriptor's bytes, found by content: its first word and its name */
	desc = versioned_desc(IRONCLAW_STAGE_API_VERSION);
	for (at = 0; at + sizeof(desc) <= len; at++)
		if (!memcmp((char *)obj + at, &desc, offsetof(struct stage_desc, slot)))
			break;
	cr_assert_leq(at + sizeof(desc), len, "no descriptor found in %s", POSTGRES_OBJ);
	memcpy((char *)obj + at, &old_abi, sizeof(old_abi));
	path = put_file("50-postgres.bpf.o", obj, len, 0, 0644);
	expect_refused(path, "stage 'postgres' was built against stage API version 0", NULL);
	free(path);
	free(obj);
}

/* learning is opt-in: a plug-in stage that does not follow names has no learn_* map */
Test(stage_file, learn_maps_only_when_following_names)
{
	static const struct {
		const char *obj;
		bool learns;
	} objs[] = { { POSTGRES_OBJ, true },
		     { HTTPS_OBJ, true },
		     { INTERNAL_OBJ, true },
		     { FLOW_OBJ, false } };

	for (size_t i = 0; i < ARRAY_SIZE(objs); i++) {
		struct bpf_object *o = bpf_object__open_file(objs[i].obj, NULL);
		struct bpf_map *m;
		bool learns = false;

		if (!o)
			skip_test("%s not built (run `make test-bins`)", objs[i].obj);
		bpf_object__for_each_map(m, o)
			learns |= !strncmp(bpf_map__name(m), "learn_", 6);
		cr_assert_eq(learns, objs[i].learns, "%s: learn_* maps %s", objs[i].obj,
			     learns ? "present" : "missing");
		bpf_object__close(o);
	}
}
