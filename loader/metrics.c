/* metrics.c: an instance's counters in the Prometheus text exposition format. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "counts.h"
#include "event.h"
#include "learn_maps.h"
#include "metrics.h"
#include "pins.h"
#include "policy.h"
#include "reasons.h"
#include "state.h"
#include "status.h"
#include "text.h"

#define TOOLS_MAX 256

struct tool_sum {
	char name[64];
	struct pkt_count c;
};

/* what one instance's maps and state hold now */
struct inst {
	const char *name;
	bool up;
	__u32 ctl;
	struct pkt_count reasons[REASON_MAX];
	__u64 drops[EVENT_DROP_MAX];
	__u64 flow_drops[EVENT_DROP_MAX];
	__u64 switches;
	long learned; /* -1: the profile learns nothing */
	__u64 answers[LEARN_EV_MAX]; /* what became of the resolvers' answers (learn_counts) */
	__u64 nr_rules;
	struct tool_sum tools[TOOLS_MAX];
	int nr_tools;
};

void metrics_label(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (*p == '\\' || *p == '"')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (!n || *p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			fprintf(out, "\\\\x%02x", *p);
		else {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		p++;
	}
}

/* "... tool NAME" at the end of a rule's text: NAME into buf, or false */
static bool rule_tool(const char *text, char *buf, size_t len)
{
	const char *t = strstr(text, " tool ");

	if (!t)
		return false;
	t += 6;
	snprintf(buf, len, "%.*s", (int)strcspn(t, " \t"), t);
	return buf[0];
}

static void add_tool(struct inst *in, const char *tool, const struct pkt_count *c)
{
	int i;

	for (i = 0; i < in->nr_tools; i++)
		if (!strcmp(in->tools[i].name, tool))
			break;
	if (i == in->nr_tools) {
		if (in->nr_tools == TOOLS_MAX)
			return;
		snprintf(in->tools[in->nr_tools++].name, sizeof(in->tools[0].name), "%s", tool);
	}
	in->tools[i].c.packets += c->packets;
	in->tools[i].c.bytes += c->bytes;
}

/*
 * Each rule of the list with its total (this profile's counter, and what the
 * same rule counted before); fn NULL: only the per-tool sums and the count.
 */
static void rules_walk(struct inst *in, FILE *out,
		       void (*fn)(FILE *out, const struct inst *in, const struct rule_list_entry *e,
				  const struct pkt_count *c))
{
	char *line = NULL, tool[64];
	struct rule_counters rc;
	size_t cap = 0;
	FILE *f;

	f = rule_list_open(in->name);
	if (!f)
		return;
	rule_counters_open(in->name, &rc);
	while (getline(&line, &cap, f) > 0) {
		struct rule_list_entry e;
		struct pkt_count c;

		if (rule_list_parse(line, &e))
			continue;
		rule_counters_get(&rc, e.id, &c);
		c.packets += e.carried.packets;
		c.bytes += e.carried.bytes;
		if (fn) {
			fn(out, in, &e, &c);
			continue;
		}
		in->nr_rules++;
		if (rule_tool(e.text, tool, sizeof(tool)))
			add_tool(in, tool, &c);
	}
	free(line);
	fclose(f);
	rule_counters_close(&rc);
}

static void inst_read(struct inst *in)
{
	char path[STATE_PATH_MAX], *text;
	struct learned_addr *a = NULL;
	__u32 zero = 0;
	size_t len;
	int fd = pins_get(in->name, "ctl"), n;

	if (fd < 0)
		return;
	in->up = !bpf_map_lookup_elem(fd, &zero, &in->ctl);
	close(fd);
	if (!in->up)
		return;
	for (unsigned int r = 0; r < REASON_MAX; r++)
		status_reason_count(in->name, r, &in->reasons[r].packets, &in->reasons[r].bytes);
	status_event_drops(in->name, in->drops);
	status_flow_drops(in->name, in->flow_drops);
	state_path(path, sizeof(path), in->name, STATE_SWITCHES);
	text = state_read_file(path, &len);
	in->switches = text ? strtoull(text, NULL, 10) : 0;
	free(text);
	n = learn_state_read(in->name, &a);
	in->learned = n;
	free(a);
	if (n >= 0)
		learn_counts_read(in->name, in->answers);
	rules_walk(in, NULL, NULL);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_start(FILE *out, const char *metric, const struct inst *in)
{
	fprintf(out, "%s{instance=\"", metric);
	metrics_label(out, in->name);
	fputc('"', out);
}

static void print_rule(FILE *out, const struct inst *in, const struct rule_list_entry *e,
		       const struct pkt_count *c, bool bytes)
{
	sample_start(out, bytes ? "ironclaw_rule_bytes_total" : "ironclaw_rule_packets_total", in);
	fprintf(out, ",rule=\"%lu\",stage=\"", e->id);
	metrics_label(out, e->stage);
	fputs("\",file=\"", out);
	metrics_label(out, e->file);
	fprintf(out, "\",line=\"%d\"} %llu\n", e->line,
		(unsigned long long)(bytes ? c->bytes : c->packets));
}

static void rule_packets(FILE *out, const struct inst *in, const struct rule_list_entry *e,
			 const struct pkt_count *c)
{
	print_rule(out, in, e, c, false);
}

static void rule_bytes(FILE *out, const struct inst *in, const struct rule_list_entry *e,
		       const struct pkt_count *c)
{
	print_rule(out, in, e, c, true);
}

static void print_all(FILE *out, struct inst *ins, int n, bool per_rule)
{
	static const char *const drop_cause[EVENT_DROP_MAX] = { "buffer_full", "rate_limit" };

	family(out, "ironclaw_packets_total", "counter",
	       "Packets (connect and sendto calls count as packets of 0 bytes) judged, by verdict "
	       "and reason.");
	for (int i = 0; i < n; i++)
		for (unsigned int r = 0; ins[i].up && r < REASON_MAX; r++) {
			sample_start(out, "ironclaw_packets_total", &ins[i]);
			fprintf(out, ",verdict=\"%s\",reason=\"%s\"} %llu\n",
				REASON_IS_ALLOW(r) ? "allow" : "deny", reason_name(r),
				(unsigned long long)ins[i].reasons[r].packets);
		}
	family(out, "ironclaw_bytes_total", "counter", "Bytes judged, by verdict and reason.");
	for (int i = 0; i < n; i++)
		for (unsigned int r = 0; ins[i].up && r < REASON_MAX; r++) {
			sample_start(out, "ironclaw_bytes_total", &ins[i]);
			fprintf(out, ",verdict=\"%s\",reason=\"%s\"} %llu\n",
				REASON_IS_ALLOW(r) ? "allow" : "deny", reason_name(r),
				(unsigned long long)ins[i].reasons[r].bytes);
		}
	family(out, "ironclaw_events_dropped_total", "counter",
	       "Denial events not sent to user space: the ring buffer was full, or the sender "
	       "was over its rate.");
	for (int i = 0; i < n; i++)
		for (int c = 0; ins[i].up && c < EVENT_DROP_MAX; c++) {
			sample_start(out, "ironclaw_events_dropped_total", &ins[i]);
			fprintf(out, ",cause=\"%s\"} %llu\n", drop_cause[c],
				(unsigned long long)ins[i].drops[c]);
		}
	family(out, "ironclaw_flow_records_dropped_total", "counter",
	       "Flow and query records not sent to user space: the ring buffer was half full "
	       "(the rest is the denials'), or the sender was over its rate.");
	for (int i = 0; i < n; i++)
		for (int c = 0; ins[i].up && c < EVENT_DROP_MAX; c++) {
			sample_start(out, "ironclaw_flow_records_dropped_total", &ins[i]);
			fprintf(out, ",cause=\"%s\"} %llu\n",
				c == EVENT_DROP_FULL ? "buffer_half_full" : drop_cause[c],
				(unsigned long long)ins[i].flow_drops[c]);
		}
	family(out, "ironclaw_generation_switches_total", "counter",
	       "Policy switches (install, reload, allow, revoke) since boot.");
	for (int i = 0; i < n; i++)
		if (ins[i].up) {
			sample_start(out, "ironclaw_generation_switches_total", &ins[i]);
			fprintf(out, "} %llu\n", (unsigned long long)ins[i].switches);
		}
	family(out, "ironclaw_blocked", "gauge", "1 while the instance is blocked (deny-all).");
	for (int i = 0; i < n; i++)
		if (ins[i].up) {
			sample_start(out, "ironclaw_blocked", &ins[i]);
			fprintf(out, "} %d\n", !!(ins[i].ctl & CTL_BLOCKED));
		}
	family(out, "ironclaw_rules", "gauge", "Rules installed.");
	for (int i = 0; i < n; i++)
		if (ins[i].up) {
			sample_start(out, "ironclaw_rules", &ins[i]);
			fprintf(out, "} %llu\n", (unsigned long long)ins[i].nr_rules);
		}
	family(out, "ironclaw_learned_addresses", "gauge",
	       "Addresses learned from DNS answers for name rules, live now.");
	for (int i = 0; i < n; i++)
		if (ins[i].up && ins[i].learned >= 0) {
			sample_start(out, "ironclaw_learned_addresses", &ins[i]);
			fprintf(out, "} %ld\n", ins[i].learned);
		}
	family(out, "ironclaw_dns_answers_total", "counter",
	       "Resolver answers (and their addresses) seen for name rules, by what became of them "
	       "(learned; cap and total: an address refused at a bound).");
	for (int i = 0; i < n; i++)
		for (unsigned int e = 0; ins[i].up && ins[i].learned >= 0 && e < LEARN_EV_MAX;
		     e++) {
			sample_start(out, "ironclaw_dns_answers_total", &ins[i]);
			fprintf(out, ",outcome=\"%s\"} %llu\n", learn_event_name(e),
				(unsigned long long)ins[i].answers[e]);
		}
	family(out, "ironclaw_tool_allowed_packets_total", "counter",
	       "Packets allowed by the rules that name a tool, per tool.");
	for (int i = 0; i < n; i++)
		for (int t = 0; ins[i].up && t < ins[i].nr_tools; t++) {
			sample_start(out, "ironclaw_tool_allowed_packets_total", &ins[i]);
			fputs(",tool=\"", out);
			metrics_label(out, ins[i].tools[t].name);
			fprintf(out, "\"} %llu\n", (unsigned long long)ins[i].tools[t].c.packets);
		}
	family(out, "ironclaw_tool_allowed_bytes_total", "counter",
	       "Bytes allowed by the rules that name a tool, per tool.");
	for (int i = 0; i < n; i++)
		for (int t = 0; ins[i].up && t < ins[i].nr_tools; t++) {
			sample_start(out, "ironclaw_tool_allowed_bytes_total", &ins[i]);
			fputs(",tool=\"", out);
			metrics_label(out, ins[i].tools[t].name);
			fprintf(out, "\"} %llu\n", (unsigned long long)ins[i].tools[t].c.bytes);
		}
	/* a profile of a million rules must not make a million series unless asked */
	family(out, "ironclaw_rule_packets_total", "counter",
	       "Packets allowed per rule (profiles of at most 1000 rules, or --per-rule).");
	for (int i = 0; i < n; i++)
		if (ins[i].up && (per_rule || ins[i].nr_rules <= METRICS_RULES_MAX))
			rules_walk(&ins[i], out, rule_packets);
	family(out, "ironclaw_rule_bytes_total", "counter",
	       "Bytes allowed per rule (profiles of at most 1000 rules, or --per-rule).");
	for (int i = 0; i < n; i++)
		if (ins[i].up && (per_rule || ins[i].nr_rules <= METRICS_RULES_MAX))
			rules_walk(&ins[i], out, rule_bytes);
}

int metrics_write(FILE *out, const char *const *names, int n, bool per_rule, struct diag *d)
{
	struct inst *ins = calloc(n ? n : 1, sizeof(*ins));

	if (!ins)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		ins[i].name = names[i];
		inst_read(&ins[i]);
	}
	if (n == 1 && !ins[0].up) {
		diag_error(d, NULL, 0, "no instance '%s' installed", names[0]);
		free(ins);
		return -ENOENT;
	}
	print_all(out, ins, n, per_rule);
	free(ins);
	return fflush(out) ? -errno : 0;
}

int metrics_write_file(const char *path, const char *const *names, int n, bool per_rule,
		       struct diag *d)
{
	char tmp[STATE_PATH_MAX];
	int fd, err;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		diag_error(d, NULL, 0, "cannot write %s: %s", tmp, strerror(-err));
		return err;
	}
	fchmod(fd, 0644);
	err = metrics_write(f, names, n, per_rule, d);
	if (!err && fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		diag_error(d, NULL, 0, "cannot write %s: %s", path, strerror(-err));
	}
	return err;
}
