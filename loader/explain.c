/* explain.c: the installed pipeline's verdict on one packet, from a dry-run copy of it. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>
#include "dry_run.h"
#include "explain.h"
#include "json.h"
#include "links.h"
#include "pins.h"
#include "xdp.h"
#include "pipeline.h"
#include "pipeline_dry.h"
#include "ruleset.h"
#include "state.h"
#include "status.h"
#include "text.h"
#include "pkt_build.h"
#include "reasons.h"

#define EXPLAIN_SPORT 40000 /* any: no rule looks at the source port */
#define EXPLAIN_SEQ 1000 /* the SYN's; the ClientHello's first byte is the next */
#define EXPLAIN_MAX_HOOKS 3

struct frame {
	__u8 b[512];
	size_t len;
};

struct hook_run {
	enum hook_id hook;
	int err; /* -errno of the test run */
	__u32 retval;
	struct dry_result r;
};

/* one frame's runs, a hook each, and the rules that decided */
struct explain_runs {
	struct hook_run runs[EXPLAIN_MAX_HOOKS];
	struct rule_info rules[EXPLAIN_MAX_HOOKS];
	size_t nr;
};

/*
 * Ethernet / IPv4 or IPv6 / a TCP SYN or a UDP header (and a DNS query when
 * asked), from src to the query's destination; hello: the TCP segment after
 * the SYN, a TLS ClientHello for q->server_name. 0, or -EINVAL for a bad name
 */
static int frame_build(struct frame *f, const struct explain_query *q, const struct addr *src,
		       bool hello)
{
	struct pkt_buf p = PKT_BUF(f->b);
	bool v6 = q->dst.family == AF_INET6;
	bool dns = q->query && q->l4proto == IPPROTO_UDP;

	if (dns && pkt_dns_name_check(q->query))
		return -EINVAL;
	pkt_eth(&p, NULL, NULL, v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6)
		pkt_ipv6(&p, &(struct pkt_ip6){
				     .src = src->bytes, .dst = q->dst.bytes, .next = q->l4proto });
	else
		pkt_ipv4(&p, &(struct pkt_ip4){ .src = src->bytes,
						.dst = q->dst.bytes,
						.proto = q->l4proto,
						.frag_off = IP_DF });
	if (q->l4proto == IPPROTO_TCP)
		pkt_tcp(&p, &(struct pkt_tcp){ .sport = EXPLAIN_SPORT,
					       .dport = q->port,
					       .seq = hello ? EXPLAIN_SEQ + 1 : EXPLAIN_SEQ,
					       .flags = hello ? TH_ACK | TH_PUSH : TH_SYN,
					       .window = 0xfa00 });
	else
		pkt_udp(&p, EXPLAIN_SPORT, q->port);
	if (dns)
		pkt_dns_query(&p, 0x1c7a, q->query, q->qtype);
	if (hello)
		pkt_tls_hello(&p, q->server_name);
	f->len = p.len;
	return pkt_finish(&p);
}

/* the link hooks of the instance: which dispatchers real packets go through */
static void attached_hooks(const char *name, bool *tc, bool *cgroup, bool *xdp)
{
	char dir[STATE_PATH_MAX];
	struct attach_point pt;
	enum link_hook hook;
	struct dirent *de;
	DIR *dd;

	*tc = *cgroup = *xdp = false;
	state_pin_path(dir, sizeof(dir), name, NULL);
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		if (pin_parse_link(de->d_name, &pt, &hook))
			continue;
		*tc |= pt.kind == ATTACH_TC_INGRESS || pt.kind == ATTACH_TC_EGRESS;
		*cgroup |= pt.kind == ATTACH_CGROUP;
		if (pt.kind == ATTACH_XDP) {
			__u32 id;

			/* an XDP pin whose program someone detached judges nothing */
			*xdp |= xdp_pin_state(name, de->d_name, &pt, &id, NULL, NULL) !=
				XDP_HOW_NONE;
		}
	}
	if (dd)
		closedir(dd);
}

/*
 * The tool the packet is sent as: its cgroup's id, 0 for none. The dry copy
 * takes it as a constant where the live dispatcher asks the socket for the
 * ancestor of its cgroup at the tools' level, which for a process in the
 * tool's cgroup (or below it) is this id; nothing is moved into the sandbox.
 */
static int sender_tool(const struct explain_query *q, __u64 *tool, struct diag *d)
{
	char path[CGROUP_PATH_MAX + 256];
	struct sandbox_cgroup sc;
	struct stat sb;
	int err;

	*tool = 0;
	if (!q->tool)
		return 0;
	if (!q->sandbox_cgroup[0]) {
		diag_error(d, NULL, 0,
			   "tool '%s': the instance has no sandbox cgroup (install it with "
			   "--sandbox-cgroup or --cgroup)",
			   q->tool);
		return -EINVAL;
	}
	err = sandbox_cgroup_open(q->sandbox_cgroup, &sc, d);
	if (err)
		return err;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", sc.path, q->tool) >= sizeof(path) ||
	    stat(path, &sb) || !S_ISDIR(sb.st_mode) || cgroup_id(path, tool)) {
		diag_error(d, NULL, 0, "no tool '%s': %s/%s is not a directory", q->tool, sc.path,
			   q->tool);
		return -ENOENT;
	}
	return 0;
}

/*
 * XDP has no cb[]: the dry copy leaves its verdict in the metadata area, just
 * before the packet; data_out starts with that area (ctx.data bytes of it).
 */
static int test_run_xdp(int prog, const struct frame *f, struct hook_run *run)
{
	struct xdp_md ctx = { .data_end = f->len };
	__u8 out[sizeof(f->b) + 64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx, .ctx_size_out = sizeof(ctx),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &opts))
		return -errno;
	run->retval = opts.retval;
	if (ctx.data >= sizeof(run->r) && ctx.data <= sizeof(out))
		memcpy(&run->r, out + ctx.data - sizeof(run->r), sizeof(run->r));
	return 0;
}

static int test_run(int prog, const struct frame *f, struct hook_run *run)
{
	struct __sk_buff ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &opts))
		return -errno;
	run->retval = opts.retval;
	memcpy(&run->r, ctx.cb, sizeof(run->r));
	return 0;
}

/* allow, deny or would_deny (audit mode lets it through) */
static const char *verdict_name(const struct hook_run *run)
{
	if (run->r.audit)
		return "would_deny";
	return REASON_IS_ALLOW(run->r.reason) ? "allow" : "deny";
}

static void print_table(FILE *out, const struct hook_run *runs, size_t nr,
			const struct rule_info *rules, char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN])
{
	fprintf(out, "%-11s %-11s %-15s %-10s %s\n", "hook", "verdict", "reason", "stage", "rule");
	for (size_t i = 0; i < nr; i++) {
		const struct hook_run *r = &runs[i];
		const char *stage =
			r->r.slot && r->r.slot < STAGE_MAX_SLOTS && stages[r->r.slot][0] ?
				stages[r->r.slot] :
				"-";

		fprintf(out, "%-11s %-11s %-15s %-10s ", hook_label(r->hook), verdict_name(r),
			reason_name(r->r.reason), stage);
		if (r->r.rule) {
			text_plain(out, rules[i].file);
			fprintf(out, ":%d: ", rules[i].line);
			text_plain(out, rules[i].text);
			fprintf(out, "\n");
		} else {
			fprintf(out, "-\n");
		}
	}
}

/* the SYN's (or datagram's) table; with a server name, the ClientHello's after it */
static void print_plain(FILE *out, const struct explain_query *q, const struct addr *src,
			const struct explain_runs *syn, const struct explain_runs *hello,
			char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN])
{
	char sb[ADDR_STR_LEN], db[ADDR_STR_LEN];

	fprintf(out, "%s %s port %u -> %s port %u, sent by %s%s", l4proto_name(q->l4proto),
		addr_format(src, sb, sizeof(sb)), EXPLAIN_SPORT,
		addr_format(&q->dst, db, sizeof(db)), q->port, q->tool ? "tool " : "no tool",
		q->tool ? q->tool : "");
	if (q->query) {
		fprintf(out, ", a DNS query for ");
		text_plain(out, q->query);
	}
	fprintf(out, "\n");
	print_table(out, syn->runs, syn->nr, syn->rules, stages);
	if (!q->server_name)
		return;
	fprintf(out, "then a TLS ClientHello with server_name ");
	text_plain(out, q->server_name);
	if (!hello->nr) {
		fprintf(out, ": not sent, the SYN is denied\n");
		return;
	}
	fprintf(out, "\n");
	print_table(out, hello->runs, hello->nr, hello->rules, stages);
}

static void json_hooks(struct json *j, const char *key, const struct explain_runs *er,
		       char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN])
{
	json_array(j, key);
	for (size_t i = 0; i < er->nr; i++) {
		const struct hook_run *r = &er->runs[i];

		json_object(j, NULL);
		json_str(j, "hook", hook_label(r->hook));
		json_str(j, "verdict", verdict_name(r));
		json_str(j, "reason", reason_name(r->r.reason));
		json_str(j, "stage",
			 r->r.slot && r->r.slot < STAGE_MAX_SLOTS && stages[r->r.slot][0] ?
				 stages[r->r.slot] :
				 NULL);
		if (r->r.rule) {
			json_object(j, "rule");
			json_u64(j, "number", r->r.rule - 1);
			json_str(j, "file", er->rules[i].file);
			json_int(j, "line", er->rules[i].line);
			json_str(j, "text", er->rules[i].text);
			json_end(j);
		} else {
			json_null(j, "rule");
		}
		json_end(j);
	}
	json_end(j);
}

static void print_json(FILE *out, const char *name, const struct explain_query *q,
		       const struct addr *src, const struct explain_runs *syn,
		       const struct explain_runs *hello,
		       char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN], bool denied)
{
	char sb[ADDR_STR_LEN], db[ADDR_STR_LEN];
	struct json j;

	json_init(&j, out);
	json_object(&j, NULL);
	json_str(&j, "instance", name);
	json_str(&j, "protocol", l4proto_name(q->l4proto));
	json_str(&j, "source", addr_format(src, sb, sizeof(sb)));
	json_u64(&j, "sport", EXPLAIN_SPORT);
	json_str(&j, "destination", addr_format(&q->dst, db, sizeof(db)));
	json_u64(&j, "port", q->port);
	json_str(&j, "tool", q->tool);
	json_str(&j, "verdict", denied ? "deny" : "allow");
	json_hooks(&j, "hooks", syn, stages);
	if (q->server_name) {
		/* the ClientHello after the SYN: no hooks when the SYN is denied */
		json_object(&j, "client_hello");
		json_str(&j, "server_name", q->server_name);
		json_hooks(&j, "hooks", hello, stages);
		json_end(&j);
	}
	json_end(&j);
}

/* f through each hook's dry program: verdicts, and the rules that decided; 0 or -errno */
static int run_hooks(const char *name, const int *progs, const struct frame *f,
		     struct explain_runs *er, bool *denied, struct diag *d)
{
	int err;

	for (size_t i = 0; i < er->nr; i++)
		er->runs[i].err = er->runs[i].hook == HOOK_XDP ?
					  test_run_xdp(progs[i], f, &er->runs[i]) :
					  test_run(progs[i], f, &er->runs[i]);
	for (size_t i = 0; i < er->nr; i++) {
		const struct hook_run *r = &er->runs[i];

		if (r->err || r->r.magic != DRY_RUN_MAGIC) {
			err = r->err ? r->err : -EPROTO;
			diag_error(d, NULL, 0, "test run at %s gave no verdict: %s",
				   hook_label(r->hook), strerror(-err));
			return err;
		}
		if (r->r.rule && rule_info_get(name, r->r.rule - 1, &er->rules[i])) {
			diag_error(d, NULL, 0, "instance '%s': rule %u is not in its rule list",
				   name, r->r.rule - 1);
			return -ENOENT;
		}
		*denied |= !REASON_IS_ALLOW(r->r.reason) && !r->r.audit;
	}
	return 0;
}

int explain_run(const char *name, const struct explain_query *q, FILE *out, bool json,
		struct diag *d)
{
	char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN];
	struct addr srcs[PIPELINE_MAX_SOURCES], src = { .family = q->dst.family };
	struct explain_runs syn = {}, hello = {};
	int progs[EXPLAIN_MAX_HOOKS], n, err;
	struct stage cand[MAX_STAGES];
	struct dry_pipeline *dp = NULL;
	bool tc, cg, xdp, denied = false;
	__u64 tool;
	struct frame f;

	src.plen = src.family == AF_INET ? 32 : 128;
	attached_hooks(name, &tc, &cg, &xdp);
	if (!tc && !cg && !xdp)
		tc = true; /* nothing attached (any more): the tc dispatcher still judges */
	err = sender_tool(q, &tool, d);
	if (err)
		return err;
	n = pipeline_sources(name, -1, srcs, PIPELINE_MAX_SOURCES);
	if (n < 0) {
		diag_error(d, NULL, 0, "instance '%s': cannot read its source addresses: %s", name,
			   strerror(-n));
		return n;
	}
	/* the sandbox's first address of the family; none: the packet is a spoofed one */
	for (int i = n - 1; i >= 0; i--)
		if (srcs[i].family == q->dst.family)
			memcpy(src.bytes, srcs[i].bytes, sizeof(src.bytes));
	err = status_stage_names(name, stages);
	if (err) {
		diag_error(d, NULL, 0, "instance '%s': cannot read its stages: %s", name,
			   strerror(-err));
		return err;
	}
	n = ruleset_stages(q->profile_dir, cand, MAX_STAGES, d);
	if (n < 0)
		return n;
	err = pipeline_dry_load(name, cand, n, cg, xdp, tool, &dp, d);
	if (err)
		goto out;
	if (xdp)
		syn.runs[syn.nr++].hook = HOOK_XDP; /* first: a frame meets XDP before tc */
	if (tc)
		syn.runs[syn.nr++].hook = HOOK_TC;
	if (cg)
		syn.runs[syn.nr++].hook = HOOK_CGSKB;
	for (size_t i = 0; i < syn.nr; i++)
		progs[i] = pipeline_dry_prog(dp, syn.runs[i].hook);
	err = frame_build(&f, q, &src, false);
	if (err) {
		diag_error(d, NULL, 0,
			   "query '%s': not a DNS name of at most 253 bytes in labels of 1-63",
			   q->query);
		goto out;
	}
	err = run_hooks(name, progs, &f, &syn, &denied, d);
	/* the ClientHello, as the first data after the SYN, when every hook let the SYN through */
	if (!err && q->server_name && !denied) {
		for (size_t i = 0; i < syn.nr; i++)
			hello.runs[hello.nr++].hook = syn.runs[i].hook;
		err = frame_build(&f, q, &src, true);
		if (err)
			diag_error(d, NULL, 0, "server_name '%s': not a name of at most 255 bytes",
				   q->server_name);
		else
			err = run_hooks(name, progs, &f, &hello, &denied, d);
	}
	if (err)
		goto out;
	if (json)
		print_json(out, name, q, &src, &syn, &hello, stages, denied);
	else
		print_plain(out, q, &src, &syn, &hello, stages);
	err = denied;
out:
	for (size_t i = 0; i < EXPLAIN_MAX_HOOKS; i++) {
		rule_info_free(&syn.rules[i]);
		rule_info_free(&hello.rules[i]);
	}
	pipeline_dry_free(dp);
	while (n-- > 0)
		stage_free(&cand[n]);
	return err;
}
