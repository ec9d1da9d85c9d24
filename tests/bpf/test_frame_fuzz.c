/*
 * test_frame_fuzz.c: the frame fuzzer. Frames built at random and frames of
 * the suite's own mutated run through the real dispatchers at tc and XDP
 * (BPF_PROG_TEST_RUN); each verdict, reason and rule is compared with the
 * reference judge (loader/judge.h), which reads the same plan but parses
 * the frame on its own. Every frame that once made them disagree is kept in
 * tests/fuzz/frames/regress.hex and replayed first.
 *
 * Two instances: one with DNS query names (frame_fuzz), one with rules of
 * tools and more sources than the settings hold (frame_fuzz_tools: this
 * process moves into the tool "alpha", so a test run at tc carries its
 * socket's cgroup, and XDP defers what only a tool's rule allows).
 *
 * Environment: FRAME_FUZZ_SEED (a run's seed; printed), FRAME_FUZZ_FRAMES
 * (frames of each random run, each at both hooks; default 50000),
 * FRAME_FUZZ_SECONDS (its time bound; default 10), FRAME_FUZZ_OUT (a file
 * the disagreeing frames are appended to, as hex lines).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include "counts.h"
#include "test_cgroup.h"
#include "judge.h"
#include "policy.h"
#include "pkt.h"
#include "pipeline_run.h"
#include "frame_gen.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CORPUS_DIR "tests/fuzz/frames"
#define MAX_SEEDS 4096
#define REPORT_MAX 20 /* disagreements printed in full */

static const char *const fuzz_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp 10.42.0.53 port 53",
	"allow udp fd00:53::53 port 53",
	"allow tcp 203.0.113.1 port 443",
	"allow tcp 198.51.100.0/24 port 443",
	"allow tcp 198.51.100.42 port 443",
	"allow tcp 2001:db8:443::/48 port 443",
	"allow tcp 10.42.7.11 port 8080",
	"allow udp 10.42.7.11 port 9000-9002",
	"allow tcp fd00:7::11 port 8080",
	"allow udp 10.42.7.12 port 443",
	"allow dns log-collector.internal.corp",
	"allow dns *.internal.corp",
	"allow dns example.org",
	/* prefixes at exact stages and rules for every port (wide_rules) */
	"allow tcp 10.42.7.0/28 port 8081",
	"allow udp 10.42.0.48/29 port 53",
	"allow udp 198.51.100.0/24",
	"allow tcp 2001:db8:444::/48 port any",
};

/* tools, more sources than the generation's settings hold, no query names */
static const char *const tools_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp 10.42.0.53 port 53",
	"allow tcp 10.42.7.11 port 8080 tool alpha",
	"allow tcp 10.42.7.11 port 8081",
	"allow tcp 10.42.7.12 port 8080 tool beta",
	"allow tcp 203.0.113.0/24 port 443 tool alpha",
	"allow tcp 203.0.113.1 port 443",
	"allow tcp 198.51.100.0/24 port 443 tool beta",
	"allow udp 10.42.7.11 port 9000-9002 tool alpha",
	"allow udp 10.42.7.11 port 9001",
	"allow tcp fd00:7::11 port 8080 tool beta",
	"allow tcp fd00:7::11 port 8080",
	/* prefixes at exact stages and rules for every port, of tools too */
	"allow tcp 10.42.7.0/24 tool beta",
	"allow udp 10.42.7.0/24 port 9003 tool alpha",
	"allow tcp 198.51.100.0/24 port 22",
};

static const char *const tools_sources[] = { "10.42.0.2", "fd00:42::2", "fe80::2",
					     "10.9.9.1",  "10.9.9.2",	"fd00:42::7" };

static struct ruleset rs;
static struct addr sources[8];
static struct judge_policy pol;
static __u64 tc_tool; /* the tool of this process's test runs at tc: 0 or alpha's id */
static char cg_dir[PATH_MAX], cg_orig[PATH_MAX + 16];

/* one hook's dispatcher */
struct hook_run {
	const char *name;
	enum hook_id hook;
	int prog;
};

/* the counter maps every hook shares, and what they said after the last run */
static int reasons_fd = -1, rules_fd = -1;
static __u32 nr_rule_counters;
static __u64 last_reasons[REASON_MAX], *last_rules;
static struct hook_run fuzz_hooks[2] = {
	{ .name = "dispatch_tc", .hook = HOOK_TC, .prog = -1 },
	{ .name = "dispatch_xdp", .hook = HOOK_XDP, .prog = -1 },
};

/* per-CPU packet counts of a counter map, summed over CPUs, entries [0, n) */
static void read_counts(int fd, __u32 n, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pkt_count vals[ncpu];

	for (__u32 k = 0; k < n; k++) {
		out[k] = 0;
		cr_assert_eq(bpf_map_lookup_elem(fd, &k, vals), 0, "counter %u: %s", k,
			     strerror(errno));
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c].packets;
	}
}

/* the rules' packet counts, wherever they are kept (counts.h), rules [0, n) */
static void read_rule_counts(__u32 n, __u64 *out)
{
	struct rule_counters rc;
	struct pkt_count c;

	rule_counters_open(inst, &rc);
	for (__u32 k = 0; k < n; k++) {
		rule_counters_get(&rc, k, &c);
		out[k] = c.packets;
	}
	rule_counters_close(&rc);
}

static void setup_instance(const char *const *lines, size_t n, const char *const *srcs,
			   size_t nr_srcs, const char *cgroup)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct diag d = {};
	cpu_set_t one;

	snprintf(inst, sizeof(inst), "fuzz%d", getpid());
	cr_assert_eq(try_install_ruleset(lines, n, srcs, nr_srcs, cgroup, &rs, &d), 0,
		     "install of the fuzz instance");
	diag_free(&d);
	cr_assert_leq(nr_srcs, ARRAY_SIZE(sources));
	for (size_t i = 0; i < nr_srcs; i++)
		cr_assert_eq(addr_parse(srcs[i], &sources[i]), 0);
	pol = (struct judge_policy){ .prof = &rs.prof,
				     .plan = &rs.plan,
				     .stages = rs.stages,
				     .nr_stages = rs.nr_stages,
				     .sources = sources,
				     .nr_sources = nr_srcs };
	/* one CPU: the counters that move are this CPU's */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	reasons_fd = pins_get(inst, "reasons");
	rules_fd = pins_get(inst, "rule_counts");
	cr_assert(reasons_fd >= 0 && rules_fd >= 0, "counter maps not pinned");
	cr_assert_eq(bpf_obj_get_info_by_fd(rules_fd, &info, &len), 0);
	nr_rule_counters = info.max_entries;
	for (int h = 0; h < 2; h++) {
		fuzz_hooks[h].prog = pins_get(inst, fuzz_hooks[h].name);
		cr_assert_geq(fuzz_hooks[h].prog, 0, "%s not pinned", fuzz_hooks[h].name);
	}
	last_rules = calloc(nr_rule_counters, sizeof(__u64));
	cr_assert_not_null(last_rules);
}

/*
 * The profile's lines, and with hashed one more of more ports than a stage
 * carries as read-only data (STAGE_BAKED_MAX): the internal stage then asks
 * its hash maps (rules4 for IPv4 of every process; rules for a tool's rules,
 * XDP's markers of them, IPv6), with the same verdicts.
 */
static void setup_profile(const char *const *lines, size_t n, bool hashed, const char *const *srcs,
			  size_t nr_srcs, const char *cgroup)
{
	static const char *all[64];

	_Static_assert(9029 - 9010 + 1 > STAGE_BAKED_MAX, "more ports than a stage bakes");
	cr_assert_lt(n, ARRAY_SIZE(all));
	memcpy(all, lines, n * sizeof(*all));
	all[n] = "allow udp 10.42.7.11 port 9010-9029";
	setup_instance(all, n + hashed, srcs, nr_srcs, cgroup);
}

static void setup_names(void)
{
	setup_profile(fuzz_profile, ARRAY_SIZE(fuzz_profile), false, test_sources, 3, NULL);
}

static void setup_names_hashed(void)
{
	setup_profile(fuzz_profile, ARRAY_SIZE(fuzz_profile), true, test_sources, 3, NULL);
}

/* a sandbox cgroup with the tools alpha and beta; this process goes into alpha */
static void setup_tools_profile(bool hashed)
{
	char path[PATH_MAX + 16], mnt[256];
	struct stat st;

	cr_assert_eq(cgroup2_mount(mnt, sizeof(mnt)), 0, "no cgroup v2 mount");
	cr_assert_eq(cgroup_self(cg_orig, sizeof(cg_orig)), 0, "this process is in no cgroup v2");
	snprintf(cg_dir, sizeof(cg_dir), "%s/ironclaw-fuzz%d", mnt, getpid());
	cr_assert_eq(mkdir(cg_dir, 0755), 0, "%s: %s", cg_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/alpha", cg_dir);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(stat(path, &st), 0);
	tc_tool = st.st_ino; /* a cgroup's id is its directory's inode */
	snprintf(path, sizeof(path), "%s/beta", cg_dir);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	setup_profile(tools_profile, ARRAY_SIZE(tools_profile), hashed, tools_sources,
		      ARRAY_SIZE(tools_sources), cg_dir);
	snprintf(path, sizeof(path), "%s/alpha", cg_dir);
	cr_assert_eq(cgroup_enter(path), 0, "moving into %s", path);
}

static void setup_tools(void)
{
	setup_tools_profile(false);
}

static void setup_tools_hashed(void)
{
	setup_tools_profile(true);
}

static void teardown(void)
{
	if (cg_dir[0]) {
		char path[PATH_MAX + 16];

		cgroup_enter(cg_orig);
		snprintf(path, sizeof(path), "%s/alpha", cg_dir);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/beta", cg_dir);
		rmdir(path);
		rmdir(cg_dir);
	}
	for (int h = 0; h < 2; h++) {
		if (fuzz_hooks[h].prog >= 0)
			close(fuzz_hooks[h].prog);
	}
	free(last_rules);
	if (reasons_fd >= 0)
		close(reasons_fd);
	if (rules_fd >= 0)
		close(rules_fd);
	ruleset_free(&rs);
	remove_instance();
}

/* what the pipeline did with a frame at one hook */
struct bpf_outcome {
	bool allow;
	unsigned int reason; /* REASON_MAX: no counter moved, or more than one */
	int rules[2]; /* the rule counters that moved, JUDGE_NO_RULE for none */
	__u32 retval;
};

/* runs the frame; -errno when the kernel refuses to run it (too short for its ethertype) */
static int bpf_run(struct hook_run *h, const struct frame *f, struct bpf_outcome *o)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len, .repeat = 1);
	__u64 now[REASON_MAX], *rules = calloc(nr_rule_counters, sizeof(__u64));
	int moved = 0, nr = 0;

	cr_assert_not_null(rules);
	if (bpf_prog_test_run_opts(h->prog, &opts)) {
		free(rules);
		return -errno;
	}
	read_counts(reasons_fd, REASON_MAX, now);
	read_rule_counts(nr_rule_counters, rules);
	o->reason = REASON_MAX;
	o->rules[0] = o->rules[1] = JUDGE_NO_RULE;
	for (unsigned int r = 0; r < REASON_MAX; r++) {
		if (now[r] != last_reasons[r]) {
			o->reason = r;
			moved++;
		}
	}
	if (moved != 1)
		o->reason = REASON_MAX;
	for (__u32 r = 0; r < nr_rule_counters; r++)
		if (rules[r] != last_rules[r] && nr < 2)
			o->rules[nr++] = (int)r;
	memcpy(last_reasons, now, sizeof(now));
	memcpy(last_rules, rules, nr_rule_counters * sizeof(__u64));
	free(rules);
	o->retval = opts.retval;
	o->allow =
		h->hook == HOOK_XDP ? opts.retval == XDP_PASS : (int)opts.retval == TC_ACT_UNSPEC;
	return 0;
}

/* the counters read once before a run */
static void counters_now(void)
{
	read_counts(reasons_fd, REASON_MAX, last_reasons);
	read_rule_counts(nr_rule_counters, last_rules);
}

struct tally {
	unsigned long frames, runs, refused, disagreements;
	unsigned long pairs[2][REASON_MAX + 1][REASON_MAX + 1]; /* [hook][bpf][judge] */
	unsigned long agreed[2][REASON_MAX]; /* [hook][reason]: what the runs covered */
	FILE *out;
};

static const char *rname(unsigned int r)
{
	return r < REASON_MAX ? reason_name(r) : "(no single reason)";
}

/* one frame at both hooks, compared; a disagreement is printed (the first ones) and counted */
static void check_frame(const struct frame *f, const char *origin, struct tally *t)
{
	char hex[2 * FRAME_MAX + 1];

	t->frames++;
	for (int h = 0; h < 2; h++) {
		struct judge_verdict want;
		struct bpf_outcome got = {};
		int jr[2];
		bool same;

		if (bpf_run(&fuzz_hooks[h], f, &got)) {
			t->refused++;
			continue;
		}
		t->runs++;
		cr_assert_eq(judge_frame(&pol, fuzz_hooks[h].hook, f->b, f->len,
					 fuzz_hooks[h].hook == HOOK_TC ? tc_tool : 0, &want),
			     0);
		jr[0] = want.rule;
		jr[1] = want.name_rule;
		if (jr[0] == JUDGE_NO_RULE) {
			jr[0] = jr[1];
			jr[1] = JUDGE_NO_RULE;
		}
		same = got.allow == want.allow && got.reason == want.reason &&
		       got.rules[0] == jr[0] && got.rules[1] == jr[1];
		if (same) {
			t->agreed[h][want.reason]++;
			continue;
		}
		t->disagreements++;
		t->pairs[h][got.reason][want.reason]++;
		if (t->disagreements <= REPORT_MAX)
			fprintf(stderr,
				"frame fuzz: %s: %s: pipeline %s %s rules %d,%d; judge %s %s rules "
				"%d,%d\n  frame %s\n",
				origin, fuzz_hooks[h].name, got.allow ? "allow" : "deny",
				rname(got.reason), got.rules[0], got.rules[1],
				want.allow ? "allow" : "deny", rname(want.reason), jr[0], jr[1],
				frame_hex(f, hex));
		if (t->out)
			fprintf(t->out, "%s # %s: %s pipeline %s, judge %s\n", frame_hex(f, hex),
				origin, fuzz_hooks[h].name, rname(got.reason), rname(want.reason));
	}
}

static void print_pairs(const struct tally *t)
{
	for (int h = 0; h < 2; h++) {
		fprintf(stderr, "frame fuzz: %s agreed:", fuzz_hooks[h].name);
		for (unsigned int r = 0; r < REASON_MAX; r++)
			if (t->agreed[h][r])
				fprintf(stderr, " %s %lu", reason_name(r), t->agreed[h][r]);
		fprintf(stderr, "\n");
	}
	for (int h = 0; h < 2; h++)
		for (unsigned int a = 0; a <= REASON_MAX; a++)
			for (unsigned int b = 0; b <= REASON_MAX; b++)
				if (t->pairs[h][a][b])
					fprintf(stderr,
						"frame fuzz: %s: pipeline %s, judge %s: %lu\n",
						fuzz_hooks[h].name, rname(a), rname(b),
						t->pairs[h][a][b]);
}

/* the frames of a corpus file; their number */
static size_t load_corpus(const char *file, struct frame *out, size_t max)
{
	char path[256], *line = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s (run the test from the repository's top)", path,
			   strerror(errno));
	while (n < max && getline(&line, &cap, f) > 0)
		if (!frame_parse_hex(line, &out[n]))
			n++;
	free(line);
	fclose(f);
	return n;
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

static struct frame corpus[MAX_SEEDS];

/* the suite's own frames and every frame that once found a disagreement */
static void corpus_replay(void)
{
	struct tally *t = calloc(1, sizeof(*t));
	size_t n = load_corpus("seeds.hex", corpus, MAX_SEEDS), m;

	cr_assert_not_null(t);
	m = load_corpus("regress.hex", corpus + n, MAX_SEEDS - n);
	cr_assert_gt(n, 100, "the seed corpus has %zu frames", n);
	counters_now();
	for (size_t i = 0; i < n + m; i++)
		check_frame(&corpus[i], i < n ? "seeds.hex" : "regress.hex", t);
	print_pairs(t);
	fprintf(stderr,
		"frame fuzz: corpus: %lu frames, %lu runs, %lu refused, %lu disagreements\n",
		t->frames, t->runs, t->refused, t->disagreements);
	cr_expect_eq(t->disagreements, 0, "%lu of %lu runs disagree with the judge",
		     t->disagreements, t->runs);
	free(t);
}

/* frames built at random and mutated seeds, from a seed that is printed */
static void random_and_mutated(void)
{
	unsigned long max = env_ul("FRAME_FUZZ_FRAMES", 50000);
	unsigned long secs = env_ul("FRAME_FUZZ_SECONDS", 10);
	uint64_t seed =
		env_ul("FRAME_FUZZ_SEED", (unsigned long)time(NULL) ^ (unsigned long)getpid());
	struct tally *t = calloc(1, sizeof(*t));
	size_t n = load_corpus("seeds.hex", corpus, MAX_SEEDS);
	const char *out = getenv("FRAME_FUZZ_OUT");
	time_t start = time(NULL);
	uint64_t s = seed;
	char origin[64];

	cr_assert_not_null(t);
	n += load_corpus("regress.hex", corpus + n, MAX_SEEDS - n);
	t->out = out ? fopen(out, "a") : NULL;
	fprintf(stderr, "frame fuzz: seed %#llx (FRAME_FUZZ_SEED=%#llx reproduces this run)\n",
		(unsigned long long)seed, (unsigned long long)seed);
	counters_now();
	for (unsigned long i = 0; i < max; i++) {
		struct frame f;

		if (!(i & 1023) && (unsigned long)(time(NULL) - start) >= secs)
			break;
		if (rnd_below(&s, 4) == 0) {
			gen_frame(&s, &f);
			if (rnd_below(&s, 2))
				mutate(&s, &f);
		} else {
			f = corpus[rnd_below(&s, (uint32_t)n)];
			mutate(&s, &f);
		}
		snprintf(origin, sizeof(origin), "seed %#llx frame %lu", (unsigned long long)seed,
			 i);
		check_frame(&f, origin, t);
	}
	print_pairs(t);
	fprintf(stderr,
		"frame fuzz: seed %#llx: %lu frames, %lu runs, %lu refused, %lu disagreements\n",
		(unsigned long long)seed, t->frames, t->runs, t->refused, t->disagreements);
	if (t->out)
		fclose(t->out);
	cr_expect_eq(t->disagreements, 0,
		     "%lu of %lu runs disagree with the judge (seed %#llx; frames above)",
		     t->disagreements, t->runs, (unsigned long long)seed);
	free(t);
}

TestSuite(frame_fuzz, .init = setup_names, .fini = teardown);

Test(frame_fuzz, corpus_replay)
{
	corpus_replay();
}

Test(frame_fuzz, random_and_mutated)
{
	random_and_mutated();
}

/* blocked: every frame of the corpus is denied as blocked, ARP and ND too */
Test(frame_fuzz, corpus_blocked)
{
	struct diag d = {};

	cr_assert_eq(pipeline_block(inst, false, &d), 0, "block");
	diag_free(&d);
	pol.blocked = true;
	corpus_replay();
}

TestSuite(frame_fuzz_tools, .init = setup_tools, .fini = teardown);

Test(frame_fuzz_tools, corpus_replay)
{
	corpus_replay();
}

Test(frame_fuzz_tools, random_and_mutated)
{
	random_and_mutated();
}

/* the same with the internal stage's rules in its hash maps (rules4, rules): the same verdicts */
TestSuite(frame_fuzz_hashed, .init = setup_names_hashed, .fini = teardown);

Test(frame_fuzz_hashed, random_and_mutated)
{
	random_and_mutated();
}

TestSuite(frame_fuzz_tools_hashed, .init = setup_tools_hashed, .fini = teardown);

Test(frame_fuzz_tools_hashed, random_and_mutated)
{
	random_and_mutated();
}
