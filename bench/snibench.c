// SPDX-License-Identifier: GPL-2.0
/*
 * snibench.c: what the https stage's TLS server-name check costs (bench/sni.sh, docs/sni.md),
 * with BPF_PROG_TEST_RUN on the pinned dispatcher of installed instances: a name learned
 * the way the pipeline learns it (a query through host-side tc ingress, its answer through
 * the learning program), then TCP flows to its address. Two instances (or two destinations)
 * side by side, interleaved run by run: per packet (a flow's data after its hello), per new
 * flow (the SYN, the hello in one segment: hot, repeated), and whole flows one by one
 * (SYN, the hello in segments of an MSS, the first data: each a single run, cold).
 * --hook tc|cgskb: the dispatcher measured, dispatch_tc or the cgroup_skb egress one.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "flow_frames.h"
#include "stage_desc.h"

#define RUNS_MAX 64
#define FLOWS_MAX 4096
#define HELLO_MAX 4096
#define FRAME_MAX (HELLO_MAX + 128)
#define SEQ 1000u /* every flow's SYN; its hello begins at SEQ + 1 */
#define SYN 0x02
#define PSH 0x08
#define ACK 0x10
#define SANDBOX "10.42.0.2"
#define RESOLVER "10.42.0.53"
/* the name every hello carries (the fixtures were captured with it) and a stranger */
#define HELLO_NAME "api.example.com"
#define OTHER_NAME "evil.example.co"
/* X25519MLKEM768's key share (group 0x11ec): its 1,184-byte key and X25519's 32 */
#define MLKEM_GROUP 0x11ec
#define MLKEM_SHARE 1216

static const char *fixtures = "tests/fixtures/tls";
/* the dispatcher measured: dispatch_tc (tc), dispatch_cgskb (cgroup_skb egress) */
static const char *dispatcher = "dispatch_tc";

/* the program of a link pinned at path (the loader pins the cgroup's as link-cgroup_egress-*) */
static int link_prog_fd(const char *path)
{
	struct bpf_link_info li = {};
	__u32 len = sizeof(li);
	int fd = bpf_obj_get(path), pfd = -ENOENT;

	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &li, &len) && li.prog_id)
		pfd = bpf_prog_get_fd_by_id(li.prog_id);
	if (fd >= 0)
		close(fd);
	return pfd;
}

/* the program of the instance's cgroup link (link-cgroup_egress-*), or -ENOENT */
static int cgroup_prog_fd(const char *inst)
{
	char path[512];
	struct dirent *e;
	int fd = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s", inst);
	d = opendir(path);
	while (d && fd < 0 && (e = readdir(d)))
		if (!strncmp(e->d_name, "link-cgroup_egress-", 19)) {
			snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/%s", inst, e->d_name);
			fd = link_prog_fd(path);
		}
	if (d)
		closedir(d);
	return fd;
}

/* an instance's program: pinned as prog, or (dispatch_cgskb) its cgroup link's */
static int pin_fd(const char *inst, const char *prog)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/%s", inst, prog);
	fd = strcmp(prog, "dispatch_cgskb") ? bpf_obj_get(path) : cgroup_prog_fd(inst);
	if (fd < 0)
		fprintf(stderr, "snibench: instance %s has no %s\n", inst, prog);
	return fd < 0 ? -ENOENT : fd;
}

/* the instructions the verifier processed for the program of fd (closed), or -1 */
static long prog_insns(int fd, char *name, size_t size)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	long n = -1;

	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		n = info.verified_insns;
		snprintf(name, size, "%s", info.name);
	}
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * insns INST: the instructions the verifier processed for the instance's dispatchers
 * (tc, host-side tc, cgroup_skb when it has one) and for the https stage's program of each
 * hook (its slot in stages_tc, stages_cgskb): hook,program,insns per line
 */
static int cmd_insns(int argc, char **argv)
{
	static const char *const disp[] = { "dispatch_tc", "dispatch_tc_host", "dispatch_cgskb" };
	static const char *const arrays[][2] = { { "tc", "stages_tc" },
						 { "cgskb", "stages_cgskb" } };
	char name[BPF_OBJ_NAME_LEN], path[512];
	__u32 slot = SLOT_HTTPS, id;
	long n;

	if (argc != 2) {
		fprintf(stderr, "usage: snibench insns INSTANCE\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(disp) / sizeof(disp[0]); i++) {
		snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/%s", argv[1], disp[i]);
		n = prog_insns(i == 2 ? cgroup_prog_fd(argv[1]) : bpf_obj_get(path), name,
			       sizeof(name));
		if (n >= 0)
			printf("%s,%s,%ld\n", i == 2 ? "cgskb" : i ? "tc_host" : "tc", disp[i], n);
	}
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "/sys/fs/bpf/ironclaw/%s/%s", argv[1], arrays[i][1]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_map_lookup_elem(fd, &slot, &id)) {
			n = prog_insns(bpf_prog_get_fd_by_id(id), name, sizeof(name));
			if (n >= 0)
				printf("%s,https stage (%s),%ld\n", arrays[i][0], name, n);
		} else {
			printf("%s,https stage,not loaded\n", arrays[i][0]);
		}
		close(fd);
	}
	return 0;
}

/* one test run of repeat; its mean time in *ns, the verdict in *ret; out: the frame after */
static int run(int fd, const struct pkt_buf *p, unsigned long repeat, double *ns, int *ret,
	       __u8 *out, __u32 out_size)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .data_out = out,
		    .data_size_out = out ? out_size : 0, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (ns)
		*ns = o.duration;
	*ret = (int)o.retval;
	return 0;
}

/* tc: TC_ACT_UNSPEC or _OK allow, _SHOT denies; cgroup_skb: 1 allows, 0 denies */
static const char *verdict(int ret)
{
	if (strcmp(dispatcher, "dispatch_tc"))
		return ret == 1 ? "allow" : ret == 0 ? "deny" : "other";
	return ret == TC_ACT_UNSPEC || ret == TC_ACT_OK ? "allow" :
	       ret == TC_ACT_SHOT			? "deny" :
							  "other";
}

/*
 * learn INST NAME ADDR SPORT: the query for NAME from the sandbox's SPORT
 * through host-side tc ingress (which gives it an id of its own), then the
 * resolver's answer, ADDR, with that id through the learning program
 */
static int cmd_learn(int argc, char **argv)
{
	__u8 mb[512], pb[1024], out[1024];
	struct pkt_buf m = PKT_BUF(mb), p = PKT_BUF(pb);
	int host, learn, ret = 0, err;
	__u16 sport, id;

	if (argc != 5) {
		fprintf(stderr, "usage: snibench learn INSTANCE NAME ADDR SPORT\n");
		return 2;
	}
	sport = atoi(argv[4]);
	host = pin_fd(argv[1], "dispatch_tc_host");
	learn = pin_fd(argv[1], "learn_tc");
	if (host < 0 || learn < 0)
		return 1;
	pkt_dns_query(&m, 0x4242, argv[2], 1);
	err = frame_dns(&p, SANDBOX, RESOLVER, sport, 53, &m) ?:
		      run(host, &p, 1, NULL, &ret, out, sizeof(out));
	if (err || strcmp(verdict(ret), "allow")) {
		fprintf(stderr, "snibench: the query for %s at host-side tc: %s\n", argv[2],
			err ? strerror(-err) : verdict(ret));
		return 1;
	}
	id = out[dns_id_off(out)] << 8 | out[dns_id_off(out) + 1];
	err = dns_a_answer(&m, id, argv[2], 600, argv[3])	      ?:
		      frame_dns(&p, RESOLVER, SANDBOX, 53, sport, &m) ?:
		      run(learn, &p, 1, NULL, &ret, NULL, 0);
	if (err || ret != TC_ACT_UNSPEC) {
		fprintf(stderr, "snibench: the answer for %s through learn_tc: %s %d\n", argv[2],
			strerror(-err), ret);
		return 1;
	}
	return 0;
}

static unsigned int be16_at(const __u8 *b)
{
	return b[0] << 8 | b[1];
}

static void be16_add(__u8 *b, unsigned int n)
{
	n += be16_at(b);
	b[0] = n >> 8;
	b[1] = n & 0xff;
}

/*
 * An X25519MLKEM768 key share (MLKEM_SHARE bytes) appended to the key_share
 * extension of the TLS 1.3 hello h: the lengths of the record, the handshake,
 * the extensions, the extension and its list of shares grow by its size
 */
static int hello_add_mlkem(__u8 *h, size_t *len)
{
	size_t i = 5 + 4 + 2 + 32, end, ks = 0, at, add = 4 + MLKEM_SHARE;
	unsigned int hs;

	/* past the session id, the cipher suites and the compression methods */
	i += 1 + h[i];
	i += 2 + be16_at(h + i);
	i += 1 + h[i];
	end = i + 2 + be16_at(h + i);
	for (size_t e = i + 2; e + 4 <= end && end <= *len; e += 4 + be16_at(h + e + 2))
		if (be16_at(h + e) == 0x33)
			ks = e;
	if (!ks || *len + add > HELLO_MAX)
		return -EINVAL;
	at = ks + 4 + be16_at(h + ks + 2);
	memmove(h + at + add, h + at, *len - at);
	h[at] = MLKEM_GROUP >> 8;
	h[at + 1] = MLKEM_GROUP & 0xff;
	h[at + 2] = MLKEM_SHARE >> 8;
	h[at + 3] = MLKEM_SHARE & 0xff;
	for (size_t k = 0; k < MLKEM_SHARE; k++)
		h[at + 4 + k] = k * 7 + 1;
	*len += add;
	be16_add(h + 3, add); /* the record */
	hs = (h[6] << 16 | h[7] << 8 | h[8]) + add; /* the handshake, 24 bits */
	h[6] = hs >> 16;
	h[7] = hs >> 8;
	h[8] = hs & 0xff;
	be16_add(h + i, add); /* the extensions */
	be16_add(h + ks + 2, add); /* key_share */
	be16_add(h + ks + 4, add); /* its client_shares */
	return 0;
}

/*
 * The hello of fixture NAME, or "pq": curl's (curl_api) with an
 * X25519MLKEM768 key share added, the size of a post-quantum hello. Its
 * name's offset in *name_off.
 */
static int hello_load(const char *name, __u8 *h, size_t *len, size_t *name_off)
{
	int err, pq = !strcmp(name, "pq");
	const __u8 *at;

	err = tls_fixture_read(fixtures, pq ? "curl_api" : name, h, HELLO_MAX, len);
	if (err) {
		fprintf(stderr, "snibench: cannot read %s/%s.hex: %s\n", fixtures,
			pq ? "curl_api" : name, strerror(-err));
		return err;
	}
	if (pq && hello_add_mlkem(h, len)) {
		fprintf(stderr, "snibench: curl_api has no key_share to add to\n");
		return -EINVAL;
	}
	at = memmem(h, *len, HELLO_NAME, strlen(HELLO_NAME));
	if (!at) {
		fprintf(stderr, "snibench: no %s in the hello %s\n", HELLO_NAME, name);
		return -EINVAL;
	}
	*name_off = at - h;
	return 0;
}

/* one side of a comparison: an instance's dispatcher and the address its flows go to */
struct side {
	const char *inst, *dst;
	int fd;
	__u16 sport; /* of its current flow */
};

/* a segment of the side's current flow; its verdict must be allow (repeat 1: one shot) */
static int seg(struct side *s, __u32 seq, __u8 flags, const void *data, size_t len,
	       unsigned long repeat, double *ns)
{
	__u8 b[FRAME_MAX];
	struct pkt_buf p = PKT_BUF(b);
	int ret = 0, err;

	err = frame_tcp(&p, SANDBOX, s->dst, s->sport, 443, seq, flags, data, len) ?:
		      run(s->fd, &p, repeat, ns, &ret, NULL, 0);
	if (err) {
		fprintf(stderr, "snibench: a segment of %zu bytes to %s: %s\n", len, s->dst,
			strerror(-err));
		return err;
	}
	if (strcmp(verdict(ret), "allow")) {
		fprintf(stderr, "snibench: %s: a segment (seq %u, %zu bytes) to %s got %s\n",
			s->inst, seq, len, s->dst, verdict(ret));
		return -EPERM;
	}
	return 0;
}

/* SYN, the hello in segments of mss, one byte past it; each step's one-shot time in t[] */
static int flow(struct side *s, const __u8 *h, size_t len, size_t mss, double *t, int *steps)
{
	int err = seg(s, SEQ, SYN, NULL, 0, 1, &t[0]);
	size_t off = 0;

	*steps = 1;
	while (!err && off < len) {
		size_t n = len - off < mss ? len - off : mss;

		err = seg(s, SEQ + 1 + off, ACK | PSH, h + off, n, 1, &t[(*steps)++]);
		off += n;
	}
	if (!err)
		err = seg(s, SEQ + 1 + len, ACK | PSH, "x", 1, 1, &t[(*steps)++]);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[FLOWS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void range(const double *v, int n, double *lo, double *hi)
{
	*lo = *hi = v[0];
	for (int i = 1; i < n; i++) {
		*lo = v[i] < *lo ? v[i] : *lo;
		*hi = v[i] > *hi ? v[i] : *hi;
	}
}

/* icbench run --spread's line: the medians over runs, the per-run pairs' range */
static void print_spread(const char *what, unsigned long repeat, const double *p, const double *b,
			 int runs)
{
	double above[RUNS_MAX], ratio[RUNS_MAX], plo, phi, blo, bhi, alo, ahi, rlo, rhi;

	for (int k = 0; k < runs; k++) {
		above[k] = p[k] - b[k];
		ratio[k] = b[k] > 0 ? p[k] / b[k] : 0;
	}
	range(p, runs, &plo, &phi);
	range(b, runs, &blo, &bhi);
	range(above, runs, &alo, &ahi);
	range(ratio, runs, &rlo, &rhi);
	printf("%s%s%lu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f\n", what,
	       *what ? "," : "", repeat, median(p, runs), plo, phi, median(b, runs), blo, bhi,
	       median(above, runs), alo, ahi, median(ratio, runs), rlo, rhi);
}

struct opts {
	struct side s[2]; /* the program measured, its baseline */
	const char *kind, *hello;
	unsigned long repeat;
	int runs, flows;
	int other; /* verdict: the hello names another host */
	size_t mss;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "prog", required_argument, NULL, 'p' },
		{ "dst", required_argument, NULL, 'd' },
		{ "base", required_argument, NULL, 'B' },
		{ "base-dst", required_argument, NULL, 'D' },
		{ "kind", required_argument, NULL, 'k' },
		{ "hello", required_argument, NULL, 'h' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'n' },
		{ "flows", required_argument, NULL, 'f' },
		{ "mss", required_argument, NULL, 'm' },
		{ "fixtures", required_argument, NULL, 'F' },
		{ "hook", required_argument, NULL, 'H' },
		{ "other", no_argument, NULL, 'o' },
		{},
	};
	int c;

	*o = (struct opts){
		.hello = "openssl_api", .repeat = 200000, .runs = 9, .flows = 200, .mss = 1448
	};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->s[0].inst = optarg;
			break;
		case 'd':
			o->s[0].dst = optarg;
			break;
		case 'B':
			o->s[1].inst = optarg;
			break;
		case 'D':
			o->s[1].dst = optarg;
			break;
		case 'k':
			o->kind = optarg;
			break;
		case 'h':
			o->hello = optarg;
			break;
		case 'r':
			o->repeat = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o->runs = atoi(optarg);
			break;
		case 'f':
			o->flows = atoi(optarg);
			break;
		case 'm':
			o->mss = strtoul(optarg, NULL, 10);
			break;
		case 'F':
			fixtures = optarg;
			break;
		case 'o':
			o->other = 1;
			break;
		case 'H':
			if (strcmp(optarg, "tc") && strcmp(optarg, "cgskb"))
				return -EINVAL;
			dispatcher = strcmp(optarg, "tc") ? "dispatch_cgskb" : "dispatch_tc";
			break;
		default:
			return -EINVAL;
		}
	}
	if (!o->s[1].inst)
		o->s[1].inst = o->s[0].inst;
	if (!o->s[1].dst)
		o->s[1].dst = o->s[0].dst;
	if (!o->s[0].inst || !o->s[0].dst || o->runs < 1 || o->runs > RUNS_MAX || !o->repeat ||
	    o->flows < 1 || o->flows > FLOWS_MAX || o->mss < 1)
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		o->s[i].fd = pin_fd(o->s[i].inst, dispatcher);
		if (o->s[i].fd < 0)
			return o->s[i].fd;
	}
	return 0;
}

/*
 * run --prog INST --dst ADDR [--base INST] [--base-dst ADDR] --kind syn|hello|data
 *     [--hello FIXTURE|pq] [--repeat R] [--runs K]: a flow set up on each side (SYN, its
 * hello in one segment, a byte past it), then one of its segments repeated, interleaved
 * run by run (which goes first alternates): the SYN (each one records the flow again),
 * the hello (a copy of it from its first byte is judged again, whole) or the data past it.
 * Prints icbench run --spread's line.
 */
static int cmd_run(int argc, char **argv)
{
	double p[RUNS_MAX], b[RUNS_MAX], t[64];
	__u8 h[HELLO_MAX];
	size_t len, name_off;
	struct opts o;
	int steps, err;

	if (parse(argc, argv, &o) || !o.kind ||
	    (strcmp(o.kind, "syn") && strcmp(o.kind, "hello") && strcmp(o.kind, "data"))) {
		fprintf(stderr, "usage: snibench run --prog INST --dst ADDR [--base INST] "
				"[--base-dst ADDR] --kind syn|hello|data [--hello FIXTURE|pq] "
				"[--repeat R] [--runs K]\n");
		return 2;
	}
	err = hello_load(o.hello, h, &len, &name_off);
	for (int i = 0; i < 2 && !err; i++) {
		o.s[i].sport = 42000 + i;
		err = flow(&o.s[i], h, len, HELLO_MAX, t, &steps);
	}
	for (int k = 0; k < o.runs && !err; k++)
		for (int j = 0; j < 2 && !err; j++) {
			int i = (j + k) % 2;
			struct side *s = &o.s[i];
			double *ns = i ? &b[k] : &p[k];

			if (!strcmp(o.kind, "syn"))
				err = seg(s, SEQ, SYN, NULL, 0, o.repeat, ns);
			else if (!strcmp(o.kind, "hello"))
				err = seg(s, SEQ + 1, ACK | PSH, h, len, o.repeat, ns);
			else
				err = seg(s, SEQ + 1 + len, ACK | PSH, "x", 1, o.repeat, ns);
		}
	if (err)
		return 1;
	print_spread("", o.repeat, p, b, o.runs);
	return 0;
}

/*
 * flows --prog INST --dst ADDR [--base INST] [--base-dst ADDR] [--hello FIXTURE|pq]
 *       [--mss N] [--flows F] [--runs K]: K runs of F new flows a side, the sides
 * alternating flow by flow: a SYN, the hello in segments of at most N bytes, one byte past
 * it, each segment a single test run (a new flow's state is cold). Per run, the median over
 * its flows of each part's time (the SYN, the hello's segments together, the data, the
 * whole flow); prints one line per part: part,segments, then icbench run --spread's fields
 * over the runs (repeat: the flows of a run).
 */
static int cmd_flows(int argc, char **argv)
{
	static const char *const parts[] = { "syn", "hello", "data", "flow" };
	static double v[4][2][FLOWS_MAX];
	double p[4][RUNS_MAX], b[4][RUNS_MAX], t[2][64];
	__u8 h[HELLO_MAX];
	size_t len, name_off;
	struct opts o;
	int steps = 0, err;
	__u16 port = 20000;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: snibench flows --prog INST --dst ADDR [--base INST] "
				"[--base-dst ADDR] [--hello FIXTURE|pq] [--mss N] [--flows F] "
				"[--runs K]\n");
		return 2;
	}
	err = hello_load(o.hello, h, &len, &name_off);
	if (!err && (len + o.mss - 1) / o.mss + 2 > 64)
		err = -EINVAL;
	for (int k = 0; k < o.runs && !err; k++) {
		for (int f = 0; f < o.flows && !err; f++)
			for (int j = 0; j < 2 && !err; j++) {
				int i = (j + f + k) % 2;

				o.s[i].sport = port++;
				if (port < 20000)
					port = 20000;
				err = flow(&o.s[i], h, len, o.mss, t[i], &steps);
				if (err)
					break;
				v[0][i][f] = t[i][0];
				v[1][i][f] = 0;
				for (int x = 1; x < steps - 1; x++)
					v[1][i][f] += t[i][x];
				v[2][i][f] = t[i][steps - 1];
				v[3][i][f] = v[0][i][f] + v[1][i][f] + v[2][i][f];
			}
		for (int q = 0; q < 4 && !err; q++) {
			p[q][k] = median(v[q][0], o.flows);
			b[q][k] = median(v[q][1], o.flows);
		}
	}
	if (err)
		return 1;
	for (int q = 0; q < 4; q++) {
		char what[64];

		snprintf(what, sizeof(what), "%s,%d", parts[q],
			 q == 1 ? steps - 2 :
			 q == 3 ? steps :
				  1);
		print_spread(what, o.flows, p[q], b[q], o.runs);
	}
	return 0;
}

/*
 * verdict --prog INST --dst ADDR [--hello FIXTURE|pq] [--mss N] [--other]: a new flow's
 * SYN and hello (named as captured, or --other: another name of the same length) in
 * segments of N; prints the verdict of its last segment (allow, deny)
 */
static int cmd_verdict(int argc, char **argv)
{
	__u8 h[HELLO_MAX], b[FRAME_MAX];
	size_t len, name_off, off = 0;
	int ret = 0, err;
	struct opts o;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: snibench verdict --prog INST --dst ADDR [--hello "
				"FIXTURE|pq] [--mss N] [--other]\n");
		return 2;
	}
	err = hello_load(o.hello, h, &len, &name_off);
	if (!err && o.other)
		memcpy(h + name_off, OTHER_NAME, strlen(OTHER_NAME));
	o.s[0].sport = 19000 + getpid() % 1000;
	if (!err)
		err = seg(&o.s[0], SEQ, SYN, NULL, 0, 1, NULL);
	while (!err && off < len) {
		struct pkt_buf p = PKT_BUF(b);
		size_t n = len - off < o.mss ? len - off : o.mss;

		err = frame_tcp(&p, SANDBOX, o.s[0].dst, o.s[0].sport, 443, SEQ + 1 + off, ACK | PSH, h + off, n) ?:
			      run(o.s[0].fd, &p, 1, NULL, &ret, NULL, 0);
		off += n;
	}
	if (err) {
		fprintf(stderr, "snibench: verdict: %s\n", strerror(-err));
		return 1;
	}
	printf("%s\n", verdict(ret));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "learn", cmd_learn },	    { "run", cmd_run },	    { "flows", cmd_flows },
		{ "verdict", cmd_verdict }, { "insns", cmd_insns },
	};

	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: snibench learn|run|flows|verdict|insns ...\n");
	return 2;
}
