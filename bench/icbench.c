// SPDX-License-Identifier: GPL-2.0
/*
 * icbench.c: the bench's harness. Writes the rule sets as profiles, if-chains,
 * nftables and iptables rules; measures programs with BPF_PROG_TEST_RUN
 * against the empty program in the same run; loads and attaches programs;
 * and generates live frames (XDP live-frame mode of BPF_PROG_TEST_RUN).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "event.h"
#include "frame.h"
#include "obj_path.h"
#include "ruleset.h"

/* Debian 12's linux-libc-dev (6.1) predates tcx */
#define TCX_INGRESS 46
#define TCX_EGRESS 47

#define RUNS_MAX 64

enum set { SET_EXACT, SET_CIDR };

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The calling thread's CPU time. With the kernel's tick-based accounting (no
 * IRQ_TIME_ACCOUNTING) the softirq work a system call does on its way out (a
 * veth's NAPI, the receive path) is charged to the thread; time stolen by
 * other tasks or by the hypervisor (steal) is not.
 */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_set(const char *s, enum set *out)
{
	if (!strcmp(s, "exact"))
		*out = SET_EXACT;
	else if (!strcmp(s, "cidr"))
		*out = SET_CIDR;
	else
		return -EINVAL;
	return 0;
}

static const char *ip4(uint32_t a, char *buf)
{
	struct in_addr in = { .s_addr = htonl(a) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* gen-profile exact|cidr N FILE */
static int cmd_gen_profile(int argc, char **argv)
{
	char buf[INET_ADDRSTRLEN];
	unsigned long n;
	enum set set;
	FILE *f;

	if (argc != 4 || parse_set(argv[1], &set)) {
		fprintf(stderr, "usage: icbench gen-profile exact|cidr N FILE\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	if (n > (set == SET_EXACT ? EXACT_MAX : CIDR_MAX)) {
		fprintf(stderr, "icbench: %lu rules is more than the %s set holds\n", n, argv[1]);
		return 1;
	}
	f = fopen(argv[3], "w");
	if (!f) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (set == SET_EXACT)
			fprintf(f, "allow udp %s port %u\n", ip4(exact_addr(i), buf),
				exact_port(i));
		else
			fprintf(f, "allow tcp %s/%d port 443\n", ip4(cidr_addr(i), buf),
				cidr_len(i));
	}
	if (fclose(f)) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	return 0;
}

/* rules per function (and file) in the chained style: clang's time grows faster than a
 * translation unit's size */
#define CHAIN_CHUNK 1000

static void ifchain_rules(FILE *f, unsigned long lo, unsigned long hi)
{
	for (unsigned long i = lo; i < hi; i++) {
		uint32_t a = exact_addr(i);
		/* the raw __be32 read on a little-endian CPU */
		uint32_t le = (a >> 24) | ((a >> 8) & 0xff00) | ((a << 8) & 0xff0000) | a << 24;

		fprintf(f, "\tif (dport == %u) if (daddr == 0x%08X) return ALLOW; RULE_END();\n",
			exact_port(i), le);
	}
}

static void ifchain_prologue(FILE *f, int xdp, int chain)
{
	fprintf(f, "#include <linux/bpf.h>\n#include <linux/if_ether.h>\n#include <linux/ip.h>\n"
		   "#include <linux/in.h>\n#include <linux/udp.h>\n#include <linux/pkt_cls.h>\n"
		   "#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_endian.h>\n\n");
	fprintf(f, "#define ALLOW %s\n#define DENY %s\n#define NEXT -1\n",
		xdp ? "XDP_PASS" : "TC_ACT_OK", xdp ? "XDP_DROP" : "TC_ACT_SHOT");
	fprintf(f, "#define RULE_END() %s\n\n", chain ? "asm volatile(\"\")" : "");
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "icbench: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/*
 * gen-ifchain N tc|xdp chain|plain DIR: the scenario's snippet, one `if` per
 * rule, with hex constants in the order the CPU compares them (little-endian
 * __be32, generated, so they are right), as DIR/ifchain.c. plain: as a user
 * writes it. chain: an empty asm statement after each rule keeps clang from
 * folding the chain into selects (which it does at -O2, and which runs out of
 * BPF stack at about 100 rules), and every CHAIN_CHUNK rules are a global
 * function in a file of its own, DIR/rules_K.c, linked in afterwards.
 */
static int cmd_gen_ifchain(int argc, char **argv)
{
	unsigned long n, chunks;
	int xdp, chain, err = 0;
	FILE *f;

	if (argc != 5 || (strcmp(argv[2], "tc") && strcmp(argv[2], "xdp")) ||
	    (strcmp(argv[3], "chain") && strcmp(argv[3], "plain"))) {
		fprintf(stderr, "usage: icbench gen-ifchain N tc|xdp chain|plain DIR\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	xdp = !strcmp(argv[2], "xdp");
	chain = !strcmp(argv[3], "chain");
	chunks = chain ? (n + CHAIN_CHUNK - 1) / CHAIN_CHUNK : 0;
	for (unsigned long c = 0; c < chunks && !err; c++) {
		char name[64];

		snprintf(name, sizeof(name), "rules_%lu.c", c);
		f = open_out(argv[4], name);
		if (!f)
			return 1;
		fprintf(f, "// generated by icbench gen-ifchain: rules %lu to %lu\n",
			c * CHAIN_CHUNK,
			(c + 1) * CHAIN_CHUNK < n ? (c + 1) * CHAIN_CHUNK - 1 : n - 1);
		ifchain_prologue(f, xdp, chain);
		fprintf(f, "__attribute__((noinline)) int rules_%lu(__u16 dport, __u32 daddr)\n{\n",
			c);
		ifchain_rules(f, c * CHAIN_CHUNK,
			      (c + 1) * CHAIN_CHUNK < n ? (c + 1) * CHAIN_CHUNK : n);
		fprintf(f, "\treturn NEXT;\n}\n");
		err = fclose(f) ? -errno : 0;
	}
	f = err ? NULL : open_out(argv[4], "ifchain.c");
	if (!f)
		return 1;
	fprintf(f, "// generated by icbench gen-ifchain %lu %s %s: one if per rule\n", n, argv[2],
		argv[3]);
	ifchain_prologue(f, xdp, chain);
	for (unsigned long c = 0; c < chunks; c++)
		fprintf(f, "extern int rules_%lu(__u16 dport, __u32 daddr);\n", c);
	if (!chain) {
		fprintf(f, "static __always_inline int rules_all(__u16 dport, __u32 daddr)\n{\n");
		ifchain_rules(f, 0, n);
		fprintf(f, "\treturn NEXT;\n}\n");
	}
	fprintf(f, "\nstatic __always_inline int judge(void *data, void *end)\n{\n"
		   "\tstruct ethhdr *eth = data;\n\tstruct iphdr *ip = data + sizeof(*eth);\n"
		   "\tstruct udphdr *l4 = (void *)(ip + 1);\n\t__u16 dport;\n\t__u32 daddr;\n"
		   "\tint r;\n\n"
		   "\tif ((void *)(l4 + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||\n"
		   "\t    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)\n\t\treturn DENY;\n"
		   "\tdport = bpf_ntohs(l4->dest);\n\tdaddr = ip->daddr;\n");
	if (!chain)
		fprintf(f, "\tr = rules_all(dport, daddr);\n\tif (r != NEXT)\n\t\treturn r;\n");
	for (unsigned long c = 0; c < chunks; c++)
		fprintf(f, "\tr = rules_%lu(dport, daddr);\n\tif (r != NEXT)\n\t\treturn r;\n", c);
	fprintf(f, "\treturn DENY;\n}\n\n");
	if (xdp)
		fprintf(f, "SEC(\"xdp\")\nint ifchain(struct xdp_md *ctx)\n{\n\treturn judge((void "
			   "*)(long)ctx->data, (void *)(long)ctx->data_end);\n}\n\n");
	else
		fprintf(f,
			"SEC(\"tc\")\nint ifchain(struct __sk_buff *skb)\n{\n\treturn judge((void "
			"*)(long)skb->data, (void *)(long)skb->data_end);\n}\n\n");
	fprintf(f, "char LICENSE[] SEC(\"license\") = \"GPL\";\n");
	if (fclose(f)) {
		fprintf(stderr, "icbench: cannot write %s/ifchain.c: %s\n", argv[4],
			strerror(errno));
		return 1;
	}
	return 0;
}

/* gen-nft N IFACE FILE: the exact set as one nftables set, in the output hook */
static int cmd_gen_nft(int argc, char **argv)
{
	char buf[INET_ADDRSTRLEN];
	unsigned long n;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: icbench gen-nft N IFACE FILE\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	f = fopen(argv[3], "w");
	if (!f) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	fprintf(f,
		"table inet icpbench {\n\tset allow4 {\n"
		"\t\ttype ipv4_addr . inet_proto . inet_service\n\t\tsize %lu\n",
		n < 65536 ? 65536 : 2 * n);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%s%s . udp . %u", i ? ",\n\t\t\t" : "\t\telements = { ",
			ip4(exact_addr(i), buf), exact_port(i));
	fprintf(f, "%s\t}\n", n ? " }\n" : "");
	fprintf(f,
		"\tchain out {\n\t\ttype filter hook output priority filter; policy accept;\n"
		"\t\toifname \"%s\" ip daddr . meta l4proto . th dport @allow4 accept\n"
		"\t\toifname \"%s\" meta nfproto ipv4 drop\n\t}\n}\n",
		argv[2], argv[2]);
	if (fclose(f)) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	return 0;
}

/* gen-iptables N IFACE FILE: the exact set as a linear chain, for iptables-restore */
static int cmd_gen_iptables(int argc, char **argv)
{
	char buf[INET_ADDRSTRLEN];
	unsigned long n;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: icbench gen-iptables N IFACE FILE\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	f = fopen(argv[3], "w");
	if (!f) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	fprintf(f, "*filter\n:ICPBENCH - [0:0]\n-A OUTPUT -o %s -j ICPBENCH\n", argv[2]);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "-A ICPBENCH -d %s/32 -p udp -m udp --dport %u -j ACCEPT\n",
			ip4(exact_addr(i), buf), exact_port(i));
	fprintf(f, "-A ICPBENCH -j DROP\nCOMMIT\n");
	if (fclose(f)) {
		fprintf(stderr, "icbench: cannot write %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	return 0;
}

/* the bench's own object, next to this binary */
static int bench_obj_path(char *out, size_t len)
{
	return obj_next_to_self(out, len, "bench_progs.bpf.o");
}

/* an object file loaded whole; *prog_fd is program NAME in it */
static int load_obj(const char *path, const char *name, struct bpf_object **obj, int *prog_fd)
{
	struct bpf_program *p;
	int err;

	*obj = bpf_object__open_file(path, NULL);
	if (!*obj) {
		err = -errno;
		fprintf(stderr, "icbench: cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	err = bpf_object__load(*obj);
	if (err) {
		fprintf(stderr, "icbench: cannot load %s: %s\n", path, strerror(-err));
		return err;
	}
	p = bpf_object__find_program_by_name(*obj, name);
	if (!p) {
		fprintf(stderr, "icbench: no program '%s' in %s\n", name, path);
		return -ENOENT;
	}
	*prog_fd = bpf_program__fd(p);
	return 0;
}

/* SPEC: pin:PATH or obj:FILE:PROGRAM */
static int open_spec(const char *spec, struct bpf_object **obj, int *prog_fd)
{
	char path[PATH_MAX], *colon;

	*obj = NULL;
	if (!strncmp(spec, "pin:", 4)) {
		*prog_fd = bpf_obj_get(spec + 4);
		if (*prog_fd < 0) {
			fprintf(stderr, "icbench: no program pinned at %s: %s\n", spec + 4,
				strerror(errno));
			return -errno;
		}
		return 0;
	}
	if (strncmp(spec, "obj:", 4) || strlen(spec + 4) >= sizeof(path)) {
		fprintf(stderr, "icbench: bad program '%s' (pin:PATH or obj:FILE:PROGRAM)\n", spec);
		return -EINVAL;
	}
	strcpy(path, spec + 4);
	colon = strrchr(path, ':');
	if (!colon) {
		fprintf(stderr, "icbench: bad program '%s' (obj:FILE:PROGRAM)\n", spec);
		return -EINVAL;
	}
	*colon = '\0';
	return load_obj(path, colon + 1, obj, prog_fd);
}

static int prog_type(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.type;
}

/* a 64-byte Ethernet/IPv4/UDP or TCP frame from the sandbox's address */

/* the destination of a matching (hit) or non-matching packet of a set */
static void pick_dst(enum set set, unsigned long n, int hit, uint32_t r, uint32_t *addr,
		     uint16_t *port)
{
	if (hit && n) {
		uint32_t i = r % n;

		*addr = set == SET_EXACT ? exact_addr(i) : cidr_addr(i);
		*port = set == SET_EXACT ? exact_port(i) : 443;
	} else if (set == SET_EXACT) {
		*addr = EXACT_MISS_BASE + r % EXACT_MAX;
		*port = exact_port(r);
	} else {
		*addr = CIDR_MISS_BASE + r % (1u << 22);
		*port = 443;
	}
}

/* the wrapper's table: random destinations of the set, or one (hot) */
static int fill_table(int fd, enum set set, unsigned long n, int hit, int hot)
{
	uint32_t seed = 0x1c0ffee;

	for (__u32 k = 0; k < BENCH_TABLE_SIZE; k++) {
		uint32_t addr;
		uint16_t port;
		struct bench_dst d = {};

		pick_dst(set, n, hit, hot ? n / 2 : bench_rand(&seed), &addr, &port);
		d.daddr = htonl(addr);
		d.dport = htons(port);
		if (bpf_map_update_elem(fd, &k, &d, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int test_run(int fd, const unsigned char *frame, unsigned long repeat, double *ns,
		    __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = BENCH_FRAME_LEN,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err)
		return -errno;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

static int discard(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/*
 * --events-of: before each run of the program, the instance's ring buffer
 * emptied and the flow records' budget of the senders of no tool given
 * back, so that every packet of a run of fewer than EVENTS_PER_SECOND
 * repeats writes its record (the cost of a flow record, not of its drop)
 */
static void events_fresh(const char *instance)
{
	char path[PATH_MAX];
	__u64 key = EVENT_BUDGET_OTHERS | EVENT_BUDGET_FLOWS;
	struct ring_buffer *rb;
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/events", instance);
	fd = bpf_obj_get(path);
	rb = fd >= 0 ? ring_buffer__new(fd, discard, NULL, NULL) : NULL;
	if (rb)
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/event_budgets", instance);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &key);
		close(fd);
	}
}

/*
 * run --prog SPEC --set exact|cidr --n N (--hit|--miss) (--hot|--mix)
 *     [--repeat R] [--runs K] [--base SPEC] [--tcp-flags F] [--events-of INSTANCE]
 *     [--spread]
 * K runs of R repeats each of the program and of the empty program of its
 * type (or of the --base program: an A/B of two builds), interleaved; --mix puts both behind the wrapper that writes a random
 * destination of the set into the frame first. --budget S: fewer repeats
 * (not under 100,000) when a run would take longer than S seconds. Prints
 * repeat,ns,ns_min,ns_max,empty_ns,empty_min,empty_max,above_ns,ratio,retval
 * (medians; above and ratio are medians of the per-run pairs). --tcp-flags:
 * the TCP frames' flags (default 0x02, a SYN; 0x10 an ACK). --spread prints
 * repeat,ns,ns_min,ns_max,base_ns,base_min,base_max,above_ns,above_min,above_max,
 * ratio,ratio_min,ratio_max,retval instead: the per-run pairs' whole range too.
 */
static int cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "prog", required_argument, NULL, 'p' },
		{ "set", required_argument, NULL, 's' },
		{ "n", required_argument, NULL, 'n' },
		{ "hit", no_argument, NULL, 'h' },
		{ "miss", no_argument, NULL, 'm' },
		{ "hot", no_argument, NULL, 'o' },
		{ "mix", no_argument, NULL, 'x' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'k' },
		{ "budget", required_argument, NULL, 'b' },
		{ "base", required_argument, NULL, 'B' },
		{ "spread", no_argument, NULL, 'S' },
		{ "tcp-flags", required_argument, NULL, 'F' },
		{ "events-of", required_argument, NULL, 'E' },
		{},
	};
	static const unsigned char dmac[6] = { 2, 2, 2, 2, 2, 2 }, smac[6] = { 4, 4, 4, 4, 4, 4 };
	double p[RUNS_MAX], b[RUNS_MAX], above[RUNS_MAX], ratio[RUNS_MAX], pmin, pmax, bmin, bmax;
	struct bpf_object *pobj = NULL, *bobj = NULL, *baseobj = NULL;
	const char *spec = NULL, *base = NULL, *events_of = NULL;
	unsigned char tcp_flags = 0x02;
	unsigned long n = 0, repeat = 1000000;
	double budget = 0, probe;
	int hit = -1, mix = -1, runs = 5, c, err = 0, pfd, bfd, xdp, wfd = -1, arr = -1;
	int spread = 0;
	unsigned char frame[BENCH_FRAME_LEN];
	char bpath[PATH_MAX];
	enum set set = SET_EXACT;
	__u32 retval = 0, bretval, zero = 0;
	uint32_t addr;
	uint16_t port;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			spec = optarg;
			break;
		case 's':
			if (parse_set(optarg, &set))
				return 2;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'h':
		case 'm':
			hit = c == 'h';
			break;
		case 'o':
		case 'x':
			mix = c == 'x';
			break;
		case 'r':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			runs = atoi(optarg);
			break;
		case 'b':
			budget = atof(optarg);
			break;
		case 'B':
			base = optarg;
			break;
		case 'S':
			spread = 1;
			break;
		case 'F':
			tcp_flags = strtoul(optarg, NULL, 0);
			break;
		case 'E':
			events_of = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!spec || hit < 0 || mix < 0 || runs < 1 || runs > RUNS_MAX || !repeat) {
		fprintf(stderr, "usage: icbench run --prog SPEC --set exact|cidr --n N "
				"(--hit|--miss) (--hot|--mix) [--repeat R] [--runs K] [--budget S] "
				"[--base SPEC] [--tcp-flags F] [--events-of INSTANCE]\n");
		return 2;
	}
	err = bench_obj_path(bpath, sizeof(bpath));
	if (err)
		return 1;
	err = open_spec(spec, &pobj, &pfd);
	if (err)
		goto out;
	xdp = prog_type(pfd) == BPF_PROG_TYPE_XDP;
	err = load_obj(bpath, xdp ? "empty_xdp" : "empty_tc", &bobj, &bfd);
	if (err)
		goto out;
	if (base) {
		/* the wrapper and table of the bench object stay; the baseline is base */
		err = open_spec(base, &baseobj, &bfd);
		if (!err && !!xdp != (prog_type(bfd) == BPF_PROG_TYPE_XDP)) {
			fprintf(stderr, "icbench: --base %s is not of the type of %s\n", base,
				spec);
			err = -EINVAL;
		}
		if (err)
			goto out;
	}
	pick_dst(set, n, hit, n / 2, &addr, &port);
	bench_frame(frame, dmac, smac, addr, port, set == SET_CIDR, tcp_flags);
	if (mix) {
		wfd = bpf_program__fd(
			bpf_object__find_program_by_name(bobj, xdp ? "mix_xdp" : "mix_tc"));
		arr = bpf_map__fd(
			bpf_object__find_map_by_name(bobj, xdp ? "target_xdp" : "target_tc"));
		err = fill_table(bpf_map__fd(bpf_object__find_map_by_name(bobj, "table")), set, n,
				 hit, 0);
		if (err) {
			fprintf(stderr, "icbench: cannot fill the destination table: %s\n",
				strerror(-err));
			goto out;
		}
	}
	if (budget > 0) {
		/* a slow program (a long if-chain) gets fewer repeats: at most budget seconds a
		 * run, never under 100,000 */
		int fd = pfd;

		if (mix && bpf_map_update_elem(arr, &zero, &fd, BPF_ANY) == 0)
			fd = wfd;
		if (test_run(fd, frame, 10000, &probe, &retval) == 0 &&
		    probe * repeat > budget * 1e9)
			repeat = budget * 1e9 / probe < 100000 ? 100000 : budget * 1e9 / probe;
	}
	for (int k = 0; k < runs; k++) {
		/* alternate which goes first: drift between the two cancels out */
		for (int j = 0; j < 2; j++) {
			int is_prog = (j + k) % 2, fd = is_prog ? pfd : bfd;

			if (mix) {
				if (bpf_map_update_elem(arr, &zero, &fd, BPF_ANY)) {
					err = -errno;
					fprintf(stderr,
						"icbench: cannot put the program behind the mix "
						"wrapper: %s\n",
						strerror(errno));
					goto out;
				}
				fd = wfd;
			}
			if (is_prog && events_of)
				events_fresh(events_of);
			err = test_run(fd, frame, repeat, is_prog ? &p[k] : &b[k],
				       is_prog ? &retval : &bretval);
			if (err) {
				fprintf(stderr, "icbench: BPF_PROG_TEST_RUN of %s failed: %s\n",
					is_prog ? spec :
					base	? base :
						  "the empty program",
					strerror(-err));
				goto out;
			}
		}
		above[k] = p[k] - b[k];
		ratio[k] = b[k] > 0 ? p[k] / b[k] : 0;
	}
	pmin = pmax = p[0];
	bmin = bmax = b[0];
	for (int k = 1; k < runs; k++) {
		pmin = p[k] < pmin ? p[k] : pmin;
		pmax = p[k] > pmax ? p[k] : pmax;
		bmin = b[k] < bmin ? b[k] : bmin;
		bmax = b[k] > bmax ? b[k] : bmax;
	}
	if (spread) {
		/* the per-run pairs' whole range: a target is met only when all of it clears */
		double amin = above[0], amax = above[0], rmin = ratio[0], rmax = ratio[0];

		for (int k = 1; k < runs; k++) {
			amin = above[k] < amin ? above[k] : amin;
			amax = above[k] > amax ? above[k] : amax;
			rmin = ratio[k] < rmin ? ratio[k] : rmin;
			rmax = ratio[k] > rmax ? ratio[k] : rmax;
		}
		printf("%lu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%d\n",
		       repeat, median(p, runs), pmin, pmax, median(b, runs), bmin, bmax,
		       median(above, runs), amin, amax, median(ratio, runs), rmin, rmax,
		       (int)retval);
		goto out;
	}
	printf("%lu,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.2f,%d\n", repeat, median(p, runs), pmin,
	       pmax, median(b, runs), bmin, bmax, median(above, runs), median(ratio, runs),
	       (int)retval);
out:
	bpf_object__close(pobj);
	bpf_object__close(bobj);
	bpf_object__close(baseobj);
	return err ? 1 : 0;
}

/*
 * verify OBJ: load every program of OBJ and print
 * status,load_s,xlated_insns,verified_insns,message
 */
static int cmd_verify(int argc, char **argv)
{
	static char log[1 << 16];
	struct bpf_object *obj;
	struct bpf_program *p;
	double t0, t1;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: icbench verify OBJ\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open_failed,0,0,0,%s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		bpf_program__set_log_level(p, 4); /* statistics and errors, not the trace */
		bpf_program__set_log_buf(p, log, sizeof(log));
	}
	t0 = now_s();
	err = bpf_object__load(obj);
	t1 = now_s();
	if (err) {
		/* the verifier's last line before its statistics says why */
		char *why = NULL, *stats = NULL, *line;

		for (char *q = log; q < log + sizeof(log) && *q; q++)
			*q = *q == ',' ? ';' : *q;
		for (line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
			if (!strncmp(line, "processed ", 10))
				stats = line;
			else if (strncmp(line, "verification time", 17) &&
				 strncmp(line, "stack depth", 11))
				why = line;
		}
		printf("rejected,%.2f,0,0,%s%s%s (%s)\n", t1 - t0, why ? why : "",
		       why && stats ? "; " : "", stats ? stats : (why ? "" : "no verifier message"),
		       strerror(-err));
	} else {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		__u64 xl = 0, ver = 0;

		bpf_object__for_each_program(p, obj) {
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
				xl += info.xlated_prog_len / 8;
				ver += info.verified_insns;
			}
		}
		printf("ok,%.2f,%llu,%llu,\n", t1 - t0, (unsigned long long)xl,
		       (unsigned long long)ver);
	}
	bpf_object__close(obj);
	return err ? 1 : 0;
}

/*
 * insns PIN...: the instructions the verifier processed for each pinned
 * program, or the program of each pinned link (name,insns)
 */
static int cmd_insns(int argc, char **argv)
{
	int err = 0;

	for (int i = 1; i < argc; i++) {
		struct bpf_link_info li = {};
		struct bpf_prog_info info = {};
		__u32 len = sizeof(li);
		int fd = bpf_obj_get(argv[i]);

		/* a link (pinned as link-*, as the loader names them): its program */
		if (fd >= 0 && !strncmp(basename(argv[i]), "link-", 5) &&
		    !bpf_obj_get_info_by_fd(fd, &li, &len) && li.prog_id) {
			close(fd);
			fd = bpf_prog_get_fd_by_id(li.prog_id);
		}
		len = sizeof(info);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			fprintf(stderr, "icbench: no program pinned at %s: %s\n", argv[i],
				strerror(errno));
			err = 1;
		} else {
			printf("%s,%u\n", info.name, info.verified_insns);
		}
		if (fd >= 0)
			close(fd);
	}
	return err;
}

static int enter_netns(const char *name)
{
	char path[128];
	int fd;

	if (!name)
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "icbench: cannot enter network namespace %s: %s\n", name,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/*
 * tail_fill: slot 0 of the object's prog array MAP gets its program PROG; the
 * array is pinned at PIN_tail (a prog array is emptied when user space lets
 * go of it: the pin holds it while the link lives)
 */
static int tail_fill(struct bpf_object *obj, const char *map, const char *prog, const char *pin)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);
	char path[PATH_MAX];
	__u32 key = 0;
	int fd;

	if (!p || !m) {
		fprintf(stderr, "icbench: no program '%s' or map '%s' to tail-call through\n", prog,
			map);
		return -ENOENT;
	}
	fd = bpf_program__fd(p);
	if (bpf_map_update_elem(bpf_map__fd(m), &key, &fd, BPF_ANY)) {
		fprintf(stderr, "icbench: cannot put %s into %s: %s\n", prog, map, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s_tail", pin); /* bpffs takes no dots */
	if (bpf_obj_pin(bpf_map__fd(m), path)) {
		fprintf(stderr, "icbench: cannot pin %s at %s: %s\n", map, path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * attach --obj FILE --prog NAME --dev IFACE [--netns NS] --hook tcx-ingress|tcx-egress|xdp
 *        --pin PATH [--tail PROG]: a link, pinned (removing the pin detaches it); with
 *        --tail, the object's PROG in slot 0 of its target_tc / target_xdp array
 */
static int cmd_attach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "obj", required_argument, NULL, 'o' },  { "prog", required_argument, NULL, 'p' },
		{ "dev", required_argument, NULL, 'd' },  { "netns", required_argument, NULL, 'n' },
		{ "hook", required_argument, NULL, 'h' }, { "pin", required_argument, NULL, 'P' },
		{ "tail", required_argument, NULL, 'T' }, {},
	};
	const char *objf = NULL, *prog = NULL, *dev = NULL, *ns = NULL, *hook = NULL, *pin = NULL;
	const char *tail = NULL;
	struct bpf_object *obj = NULL;
	int c, fd, link = -1, ifindex, type, err;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			objf = optarg;
			break;
		case 'p':
			prog = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'h':
			hook = optarg;
			break;
		case 'P':
			pin = optarg;
			break;
		case 'T':
			tail = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!objf || !prog || !dev || !hook || !pin) {
		fprintf(stderr,
			"usage: icbench attach --obj FILE --prog NAME --dev IFACE "
			"[--netns NS] --hook tcx-ingress|tcx-egress|xdp --pin PATH [--tail PROG]\n");
		return 2;
	}
	if (!strcmp(hook, "tcx-ingress"))
		type = TCX_INGRESS;
	else if (!strcmp(hook, "tcx-egress"))
		type = TCX_EGRESS;
	else if (!strcmp(hook, "xdp"))
		type = BPF_XDP;
	else
		return 2;
	err = load_obj(objf, prog, &obj, &fd);
	if (!err && tail)
		err = tail_fill(obj, type == BPF_XDP ? "target_xdp" : "target_tc", tail, pin);
	if (err)
		goto out;
	err = enter_netns(ns);
	if (err)
		goto out;
	ifindex = if_nametoindex(dev);
	if (!ifindex) {
		err = -errno;
		fprintf(stderr, "icbench: no interface %s: %s\n", dev, strerror(errno));
		goto out;
	}
	link = bpf_link_create(fd, ifindex, (enum bpf_attach_type)type, NULL);
	if (link < 0) {
		err = -errno;
		fprintf(stderr, "icbench: cannot attach %s at %s of %s: %s\n", prog, hook, dev,
			strerror(errno));
		goto out;
	}
	if (bpf_obj_pin(link, pin)) {
		err = -errno;
		fprintf(stderr, "icbench: cannot pin the link at %s: %s\n", pin, strerror(errno));
	}
out:
	if (link >= 0)
		close(link);
	bpf_object__close(obj);
	return err ? 1 : 0;
}

/*
 * chase --bytes B [--loads L] [--runs K]: the latency of one memory load that
 * misses the caches, as the 1M-rule target counts it: a pointer chase over a
 * buffer of B bytes (the rule map's size), one 64-byte line per step in a
 * random cycle, L loads a run, K runs. Prints ns_median,ns_min,ns_max.
 */
static int cmd_chase(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "loads", required_argument, NULL, 'l' },
		{ "runs", required_argument, NULL, 'k' },
		{},
	};
	unsigned long bytes = 0, loads = 2000000, lines, *next;
	double t[RUNS_MAX], tmin, tmax;
	int c, runs = 7;
	void **buf, **p;
	uint32_t seed = 0x5eed;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			bytes = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			loads = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			runs = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	lines = bytes / 64;
	if (lines < 2 || !loads || runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "usage: icbench chase --bytes B [--loads L] [--runs K]\n");
		return 2;
	}
	buf = aligned_alloc(64, lines * 64);
	next = random_cycle(lines, seed);
	if (!buf || !next) {
		fprintf(stderr, "icbench: cannot allocate %lu bytes to chase over\n", bytes);
		free(buf);
		free(next);
		return 1;
	}
	for (unsigned long i = 0; i < lines; i++)
		buf[i * 8] = &buf[next[i] * 8];
	p = &buf[0];
	for (unsigned long i = 0; i < lines; i++) /* once round: the pages are there */
		p = *p;
	for (int k = 0; k < runs; k++) {
		double t0 = now_s();

		for (unsigned long i = 0; i < loads; i++)
			p = *p;
		t[k] = (now_s() - t0) * 1e9 / loads;
	}
	tmin = tmax = t[0];
	for (int k = 1; k < runs; k++) {
		tmin = t[k] < tmin ? t[k] : tmin;
		tmax = t[k] > tmax ? t[k] : tmax;
	}
	/* p printed nowhere, but used: the loop is not optimised away */
	printf("%.1f,%.1f,%.1f%s\n", median(t, runs), tmin, tmax, p ? "" : " ");
	free(buf);
	free(next);
	return 0;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ?
		       0 :
		       -EINVAL;
}

/* one place xdpgen sends to: a device in a namespace, its frame and destination table */
struct gen_target {
	int prog_fd, ns_fd, ifindex;
	struct bpf_object *obj;
	unsigned char frame[BENCH_FRAME_LEN];
};

#define GEN_TARGETS_MAX 32

/* gen_target_open: the generator program and its table for N rules, the frame for DEV in NS */
static int gen_target_open(struct gen_target *t, const char *dev, const char *ns,
			   const unsigned char *dmac, enum set set, unsigned long n, int mix)
{
	unsigned char smac[6] = { 2, 0, 0, 0, 0, 2 };
	char bpath[PATH_MAX], path[128];
	struct ifreq ifr = {};
	uint32_t addr;
	uint16_t port;
	int err, sk;

	t->obj = NULL;
	t->ns_fd = -1;
	if (bench_obj_path(bpath, sizeof(bpath)))
		return -ENOENT;
	err = load_obj(bpath, "gen_xdp", &t->obj, &t->prog_fd);
	if (err)
		return err;
	err = fill_table(bpf_map__fd(bpf_object__find_map_by_name(t->obj, "table")), set, n, 1,
			 !mix);
	if (err) {
		fprintf(stderr, "icbench: cannot fill the destination table: %s\n", strerror(-err));
		return err;
	}
	if (ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		t->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (t->ns_fd < 0 || setns(t->ns_fd, CLONE_NEWNET)) {
			err = -errno;
			fprintf(stderr, "icbench: cannot enter network namespace %s: %s\n", ns,
				strerror(errno));
			return err;
		}
	}
	t->ifindex = if_nametoindex(dev);
	if (!t->ifindex) {
		err = -errno;
		fprintf(stderr, "icbench: no interface %s: %s\n", dev, strerror(errno));
		return err;
	}
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (sk >= 0 && !ioctl(sk, SIOCGIFHWADDR, &ifr))
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	if (sk >= 0)
		close(sk);
	pick_dst(set, n, 1, n / 2, &addr, &port);
	bench_frame(t->frame, dmac, smac, addr, port, set == SET_CIDR, 0x02);
	return 0;
}

/* gen_send: up to COUNT frames or SECONDS out of T (its namespace entered first) */
static int gen_send(struct gen_target *t, unsigned long count, double seconds, int batch,
		    unsigned long *sent, double *wall, double *cpu)
{
	double t0, t1, c0;

	if (t->ns_fd >= 0 && setns(t->ns_fd, CLONE_NEWNET)) {
		fprintf(stderr, "icbench: cannot enter a network namespace: %s\n", strerror(errno));
		return -errno;
	}
	*sent = 0;
	c0 = cpu_s();
	t0 = now_s();
	t1 = t0;
	while (*sent < count && t1 - t0 < seconds) {
		struct xdp_md ctx = { .data_end = BENCH_FRAME_LEN, .ingress_ifindex = t->ifindex };
		unsigned long r = count - *sent < 32768 ? count - *sent : 32768;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->frame,
			    .data_size_in = BENCH_FRAME_LEN, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = r,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);

		if (bpf_prog_test_run_opts(t->prog_fd, &o)) {
			fprintf(stderr, "icbench: live frames out of ifindex %d failed: %s\n",
				t->ifindex, strerror(errno));
			return -errno;
		}
		*sent += r;
		t1 = now_s();
	}
	*cpu = cpu_s() - c0;
	*wall = t1 - t0;
	return 0;
}

/*
 * xdpgen --dev IFACE [--netns NS] --dst-mac MAC --set exact|cidr --n N (--hot|--mix)
 *        --count C --seconds S [--batch B]: 64-byte frames out of IFACE with XDP
 *        live frames (the generator program returns XDP_TX on IFACE as ingress),
 *        until C frames or S seconds. Prints frames,seconds,cpu_seconds (this
 *        thread's CPU time, the receive side's softirq work included: cpu_s()).
 * xdpgen --target NS,MAC,N [--target ...] --passes P --set ... (--hot|--mix) --count C
 *        --seconds S [--dev IFACE]: IFACE (default sbx0) in each NS in turn, P passes
 *        over the targets, each pass starting one target further (each takes each
 *        place); one line a run: pass,target,frames,seconds,cpu_seconds (targets from 0).
 */
static int cmd_xdpgen(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "netns", required_argument, NULL, 'N' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "set", required_argument, NULL, 's' },
		{ "n", required_argument, NULL, 'n' },
		{ "hot", no_argument, NULL, 'o' },
		{ "mix", no_argument, NULL, 'x' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "batch", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "passes", required_argument, NULL, 'p' },
		{},
	};
	static struct gen_target tg[GEN_TARGETS_MAX];
	const char *dev = NULL, *ns = NULL, *tspec[GEN_TARGETS_MAX];
	unsigned char dmac[6];
	unsigned long n = 0, count = 0, sent;
	int c, mix = -1, have_mac = 0, batch = 64, err = 0, nt = 0, opened = 0, passes = 0;
	double seconds = 1, wall, cpu;
	enum set set = SET_EXACT;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		case 'm':
			have_mac = !parse_mac(optarg, dmac);
			break;
		case 's':
			if (parse_set(optarg, &set))
				return 2;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'o':
		case 'x':
			mix = c == 'x';
			break;
		case 'c':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			seconds = atof(optarg);
			break;
		case 'b':
			batch = atoi(optarg);
			break;
		case 't':
			if (nt == GEN_TARGETS_MAX) {
				fprintf(stderr, "icbench: at most %d targets\n", GEN_TARGETS_MAX);
				return 2;
			}
			tspec[nt++] = optarg;
			break;
		case 'p':
			passes = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if ((!nt && (!dev || !have_mac)) || (nt && passes < 1) || mix < 0 || !count ||
	    seconds <= 0 || batch < 1) {
		fprintf(stderr,
			"usage: icbench xdpgen --dev IFACE [--netns NS] --dst-mac MAC "
			"--set exact|cidr --n N (--hot|--mix) --count C --seconds S "
			"[--batch B]\n"
			"       icbench xdpgen --target NS,MAC,N [--target ...] --passes P "
			"--set exact|cidr (--hot|--mix) --count C --seconds S [--dev IFACE]\n");
		return 2;
	}
	if (!nt) {
		err = gen_target_open(&tg[0], dev, ns, dmac, set, n, mix);
		opened = 1;
		if (!err)
			err = gen_send(&tg[0], count, seconds, batch, &sent, &wall, &cpu);
		if (!err)
			printf("%lu,%.4f,%.4f\n", sent, wall, cpu);
		goto out;
	}
	for (; opened < nt; opened++) {
		char nsname[64], mac[32];

		if (sscanf(tspec[opened], "%63[^,],%31[^,],%lu", nsname, mac, &n) != 3 ||
		    parse_mac(mac, dmac)) {
			fprintf(stderr, "icbench: a target is NS,MAC,N: not '%s'\n", tspec[opened]);
			err = -EINVAL;
			goto out;
		}
		err = gen_target_open(&tg[opened], dev ? dev : "sbx0", nsname, dmac, set, n, mix);
		if (err) {
			opened++;
			goto out;
		}
	}
	for (int p = 0; p < passes && !err; p++)
		for (int j = 0; j < nt && !err; j++) {
			int k = (j + p) % nt;

			err = gen_send(&tg[k], count, seconds, batch, &sent, &wall, &cpu);
			if (!err)
				printf("%d,%d,%lu,%.6f,%.6f\n", p, k, sent, wall, cpu);
		}
out:
	for (int k = 0; k < opened; k++) {
		bpf_object__close(tg[k].obj);
		if (tg[k].ns_fd >= 0)
			close(tg[k].ns_fd);
	}
	return err ? 1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "gen-profile", cmd_gen_profile },
	{ "gen-ifchain", cmd_gen_ifchain },
	{ "gen-nft", cmd_gen_nft },
	{ "gen-iptables", cmd_gen_iptables },
	{ "run", cmd_run },
	{ "chase", cmd_chase },
	{ "insns", cmd_insns },
	{ "verify", cmd_verify },
	{ "attach", cmd_attach },
	{ "xdpgen", cmd_xdpgen },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: icbench COMMAND ... (gen-profile, gen-ifchain, gen-nft, "
				"gen-iptables, run, verify, attach, xdpgen)\n");
		return 2;
	}
	libbpf_set_print(quiet_print);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "icbench: unknown command '%s'\n", argv[1]);
	return 2;
}
