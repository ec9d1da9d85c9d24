/* status.c: what an instance is doing: attachments (and lost ones), stages in slots, rules, counters. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "policy.h"
#include "rules4.h"
#include "json.h"
#include "pins.h"
#include "xdp.h"
#include "pipeline.h"
#include "tc_classic.h"
#include "state.h"
#include "status.h"
#include "text.h"
#include "reasons.h"
#include "event.h"
#include "links.h"
#include "counts.h"
#include "learn_maps.h"

#define STATUS_MAX_ITEMS 64

struct status_link {
	char hook[16];
	const char *kind; /* "tcx link", "tc filter", "cgroup link", "xdp" */
	char how[128]; /* XDP: how libxdp attached it; a classic tc filter: where */
	struct attach_point pt;
	bool attached;
	__u64 target_id; /* ifindex or cgroup id */
	__u32 link_id;
};

struct status_stage {
	char name[STAGE_NAME_LEN];
	__u32 slot, prog_id;
	__u64 entries;
};

struct status {
	__u32 ctl;
	struct gen_config cfg;
	__u64 audit_tools; /* tools in audit mode in the generation in force */
	struct status_link links[STATUS_MAX_ITEMS];
	int nr_links, lost;
	struct status_stage stages[STAGE_MAX_SLOTS];
	int nr_stages;
	struct addr sources[PIPELINE_MAX_SOURCES];
	int nr_sources;
	struct pkt_count counts[REASON_MAX];
};

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* entries of generation gen in a map whose keys carry it at gen_off */
static __u64 count_gen(int fd, __u32 key_size, __u32 gen_off, __u32 gen)
{
	char prev[64], next[64];
	__u64 n = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : prev, next)) {
		n += (__u8)next[gen_off] == gen;
		memcpy(prev, next, key_size);
		first = false;
	}
	return n;
}

static void read_link(const char *name, const char *pin, struct status_link *l)
{
	struct tc_filter f;
	struct link_state st;
	enum link_hook hook;
	int fd;

	memset(l, 0, sizeof(*l));
	l->kind = "?";
	if (pin_parse_link(pin, &l->pt, &hook))
		return;
	snprintf(l->hook, sizeof(l->hook), "%s", link_hooks[hook].name);
	l->kind = link_hooks[hook].cgroup ? "cgroup link" : "tcx link";
	if (!tc_filter_read(name, pin, &f)) {
		l->kind = "tc filter";
		l->attached = tc_filter_live(name, pin, &l->pt, tc_hook_ingress(hook), &l->link_id);
		l->target_id = f.ifindex;
		snprintf(l->how, sizeof(l->how),
			 "tc filter (clsact, direct-action), handle 0x%x, priority %u", f.handle,
			 f.prio);
		return;
	}
	if (hook == LINK_XDP) {
		l->kind = "xdp";
		int idx;
		bool generic;
		enum xdp_attach_how how =
			xdp_pin_state(name, pin, &l->pt, &l->link_id, &idx, &generic);

		l->attached = how != XDP_HOW_NONE;
		l->target_id = idx > 0 ? idx : 0;
		snprintf(l->how, sizeof(l->how), "%s, %s mode", xdp_how_name(how),
			 generic ? "skb" : "native");
		return;
	}
	fd = pins_get(name, pin);
	if (fd < 0)
		return;
	if (!link_state(fd, &st)) {
		l->attached = link_live(&st);
		l->target_id = st.type == TCX_LINK_TYPE ? st.tcx.ifindex : st.cgroup.cgroup_id;
		l->link_id = st.id;
	}
	close(fd);
}

static void read_stage(const char *name, const char *pin, __u32 gen, int stages_fd,
		       struct status *s)
{
	struct status_stage *st = &s->stages[s->nr_stages];
	char rules[PIN_NAME_MAX];
	int fd;

	if (s->nr_stages >= STAGE_MAX_SLOTS)
		return;
	memset(st, 0, sizeof(*st));
	if (pin_parse_stage(pin, st->name, sizeof(st->name)))
		return;
	fd = pins_get(name, pin);
	if (fd < 0)
		return;
	st->prog_id = prog_id_of(fd);
	close(fd);
	for (__u32 slot = 1; slot < STAGE_MAX_SLOTS; slot++) {
		__u32 idx = gen * STAGE_MAX_SLOTS + slot, id = 0;

		if (!bpf_map_lookup_elem(stages_fd, &idx, &id) && id == st->prog_id)
			st->slot = slot;
	}
	pin_name_rules(rules, sizeof(rules), st->name);
	fd = pins_get(name, rules);
	if (fd >= 0) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);

		if (!bpf_obj_get_info_by_fd(fd, &mi, &len))
			st->entries = count_gen(fd, mi.key_size,
						mi.type == BPF_MAP_TYPE_LPM_TRIE ?
							offsetof(struct policy_lpm_key, k.gen) :
							0,
						gen);
		close(fd);
	}
	/* an exact stage's IPv4 rules of every process are in a map of their own */
	pin_name_rules4(rules, sizeof(rules), st->name);
	fd = pins_get(name, rules);
	if (fd >= 0) {
		struct rules4 t;

		/* a table of one generation (rules4.h): its header counts its live entries */
		if (!rules4_map(fd, false, &t))
			st->entries += t.head->live;
		rules4_unmap(&t);
		close(fd);
	}
	s->nr_stages++;
}

static int stage_by_slot(const void *a, const void *b)
{
	return (int)((const struct status_stage *)a)->slot -
	       (int)((const struct status_stage *)b)->slot;
}

static int read_status(const char *name, struct status *s, struct diag *d)
{
	char dir[STATE_PATH_MAX];
	struct dirent *de;
	__u32 zero = 0;
	DIR *dd;
	int fd, stages_fd;

	memset(s, 0, sizeof(*s));
	fd = pins_get(name, "ctl");
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &s->ctl)) {
		state_pin_path(dir, sizeof(dir), name, NULL);
		diag_error(d, NULL, 0, "no instance '%s' installed (%s)", name, dir);
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	close(fd);
	fd = pins_get(name, "config");
	if (fd >= 0) {
		__u32 g = s->ctl & CTL_GEN_MASK;

		bpf_map_lookup_elem(fd, &g, &s->cfg);
		close(fd);
	}
	fd = pins_get(name, "audit_tools");
	if (fd >= 0) {
		s->audit_tools =
			count_gen(fd, sizeof(struct audit_tool_key),
				  offsetof(struct audit_tool_key, gen), s->ctl & CTL_GEN_MASK);
		close(fd);
	}
	stages_fd = pins_get(name, "stages_tc");
	state_pin_path(dir, sizeof(dir), name, NULL);
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		if (!strncmp(de->d_name, PIN_LINK_PREFIX, strlen(PIN_LINK_PREFIX)) &&
		    s->nr_links < STATUS_MAX_ITEMS) {
			read_link(name, de->d_name, &s->links[s->nr_links]);
			s->lost += !s->links[s->nr_links++].attached;
		} else if (!strncmp(de->d_name, PIN_STAGE_PREFIX, strlen(PIN_STAGE_PREFIX)) &&
			   stages_fd >= 0) {
			read_stage(name, de->d_name, s->ctl & CTL_GEN_MASK, stages_fd, s);
		}
	}
	if (dd)
		closedir(dd);
	if (stages_fd >= 0)
		close(stages_fd);
	qsort(s->stages, s->nr_stages, sizeof(s->stages[0]), stage_by_slot);
	s->nr_sources =
		pipeline_sources(name, s->ctl & CTL_GEN_MASK, s->sources, PIPELINE_MAX_SOURCES);
	if (s->nr_sources < 0)
		s->nr_sources = 0;
	for (unsigned int r = 0; r < REASON_MAX; r++)
		status_reason_count(name, r, &s->counts[r].packets, &s->counts[r].bytes);
	return 0;
}

/* what the resolver's answers taught, and what became of the answers */
static void print_learning(const char *name, FILE *out)
{
	struct learned_addr *a = NULL;
	__u64 ev[LEARN_EV_MAX];
	char buf[ADDR_STR_LEN];
	int n = learn_state_read(name, &a);
	struct learn_config c;
	__u64 entries;

	fprintf(out, "learned from DNS (host names that follow DNS):\n");
	if (!learn_bounds_read(name, &c, &entries))
		fprintf(out, "  %llu addresses kept (max-addresses %u a name, max-total %u)\n",
			(unsigned long long)entries, c.max_addrs, c.max_total);
	if (n <= 0)
		fprintf(out, "  nothing now\n");
	for (int i = 0; i < n; i++)
		fprintf(out, "  %-32s %-20s ttl %u, %llu.%llu s left\n", a[i].host,
			addr_format(&a[i].addr, buf, sizeof(buf)), a[i].ttl,
			(unsigned long long)a[i].left_ms / 1000,
			(unsigned long long)(a[i].left_ms % 1000) / 100);
	free(a);
	learn_counts_read(name, ev);
	fprintf(out, "answers:");
	for (unsigned int e = 0; e < LEARN_EV_MAX; e++)
		fprintf(out, " %s %llu", learn_event_name(e), (unsigned long long)ev[e]);
	fprintf(out, "\n");
}

/* the learned addresses as a JSON array under key, only those of host when host is not NULL */
static void json_learned(struct json *j, const char *key, const struct learned_addr *a, int n,
			 const char *host)
{
	char buf[ADDR_STR_LEN];

	json_array(j, key);
	for (int i = 0; i < n; i++) {
		if (host && strcmp(host, a[i].host))
			continue;
		json_object(j, NULL);
		if (!host)
			json_str(j, "name", a[i].host);
		json_str(j, "address", addr_format(&a[i].addr, buf, sizeof(buf)));
		json_u64(j, "ttl", a[i].ttl);
		json_u64(j, "left_ms", a[i].left_ms);
		json_end(j);
	}
	json_end(j);
}

static void print_human(const char *name, const struct status *s, FILE *out)
{
	char buf[ADDR_STR_LEN];

	fprintf(out, "instance %s: %s, generation %u\n", name,
		s->ctl & CTL_BLOCKED ? "BLOCKED (deny-all: every packet is dropped)" :
		s->lost		     ? "DEGRADED (an attachment is lost)" :
				       "enforcing",
		s->ctl & CTL_GEN_MASK);
	if (s->cfg.flags & GEN_AUDIT)
		fprintf(out,
			"AUDIT MODE: everything the policy denies PASSES (counted as would_deny)\n");
	else if (s->cfg.audit_slots || s->audit_tools)
		fprintf(out, "AUDIT MODE for %u stage(s) and %llu tool(s): what they deny PASSES\n",
			__builtin_popcount(s->cfg.audit_slots), (unsigned long long)s->audit_tools);
	fprintf(out, "attachments:\n");
	if (!s->nr_links)
		fprintf(out, "  none\n");
	for (int i = 0; i < s->nr_links; i++) {
		const struct status_link *l = &s->links[i];

		if (l->pt.kind == ATTACH_CGROUP)
			fprintf(out, "  %-13s cgroup %s: ", l->hook, l->pt.cgroup);
		else
			fprintf(out, "  %-13s %s%s%s: ", l->hook, l->pt.ifname,
				l->pt.netns[0] ? " in netns " : "", l->pt.netns);
		if (l->attached && l->how[0])
			fprintf(out, "attached (ifindex %llu, %s, program id %u)\n",
				(unsigned long long)l->target_id, l->how, l->link_id);
		else if (l->attached)
			fprintf(out, "attached (%s %llu, %s id %u)\n",
				l->pt.kind == ATTACH_CGROUP ? "cgroup id" : "ifindex",
				(unsigned long long)l->target_id, l->kind, l->link_id);
		else if (!strcmp(l->kind, "tc filter"))
			fprintf(out,
				"LOST: its tc filter is gone (deleted, or its clsact qdisc or "
				"interface); the sandbox behind it is not covered until you run "
				"'restore' or install again\n");
		else
			fprintf(out,
				"LOST: its %s is gone; the sandbox behind it is not covered "
				"until you install again\n",
				l->pt.kind == ATTACH_CGROUP ? "cgroup" : "interface");
	}
	fprintf(out, "stages:\n");
	for (int i = 0; i < s->nr_stages; i++)
		fprintf(out, "  slot %-2u %-12s prog id %-6u %llu rule entries\n",
			s->stages[i].slot, s->stages[i].name, s->stages[i].prog_id,
			(unsigned long long)s->stages[i].entries);
	fprintf(out, "sources:");
	for (int i = 0; i < s->nr_sources; i++)
		fprintf(out, " %s", addr_format(&s->sources[i], buf, sizeof(buf)));
	{
		__u64 drops[EVENT_DROP_MAX] = {};

		status_event_drops(name, drops);
		fprintf(out, "\ndeny events dropped: %llu (ring buffer full), %llu (rate limit)",
			(unsigned long long)drops[EVENT_DROP_FULL],
			(unsigned long long)drops[EVENT_DROP_RATE]);
		memset(drops, 0, sizeof(drops));
		status_flow_drops(name, drops);
		fprintf(out,
			"\nflow records dropped: %llu (ring buffer half full), %llu (rate limit)",
			(unsigned long long)drops[EVENT_DROP_FULL],
			(unsigned long long)drops[EVENT_DROP_RATE]);
	}
	fprintf(out, "\ncounters:\n  %-15s %-7s %12s %14s\n", "reason", "verdict", "packets",
		"bytes");
	for (unsigned int r = 0; r < REASON_MAX; r++)
		fprintf(out, "  %-15s %-7s %12llu %14llu\n", reason_name(r),
			REASON_IS_ALLOW(r) ? "allow" : "deny",
			(unsigned long long)s->counts[r].packets,
			(unsigned long long)s->counts[r].bytes);
	if (s->cfg.flags & GEN_LEARN)
		print_learning(name, out);
}

static void print_json(const char *name, const struct status *s, FILE *out)
{
	__u64 drops[EVENT_DROP_MAX] = {};
	char buf[ADDR_STR_LEN];
	struct json j;

	json_init(&j, out);
	json_object(&j, NULL);
	json_str(&j, "instance", name);
	json_u64(&j, "generation", s->ctl & CTL_GEN_MASK);
	json_bool(&j, "blocked", s->ctl & CTL_BLOCKED);
	json_bool(&j, "degraded", s->lost);
	json_object(&j, "audit");
	json_bool(&j, "all", s->cfg.flags & GEN_AUDIT);
	json_u64(&j, "stages", __builtin_popcount(s->cfg.audit_slots));
	json_u64(&j, "tools", s->audit_tools);
	json_end(&j);
	json_array(&j, "attachments");
	for (int i = 0; i < s->nr_links; i++) {
		const struct status_link *l = &s->links[i];

		json_object(&j, NULL);
		json_str(&j, "hook", l->hook);
		json_str(&j, "kind", l->kind ? l->kind : "?");
		json_str(&j, "ifname", l->pt.ifname);
		json_str(&j, "netns", l->pt.netns);
		json_str(&j, "cgroup", l->pt.cgroup);
		json_bool(&j, "attached", l->attached);
		json_u64(&j, "target_id", l->target_id);
		json_u64(&j, "link_id", l->link_id);
		if (l->kind && !strcmp(l->kind, "tc filter"))
			json_str(&j, "tc_filter", l->how);
		else if (l->how[0]) {
			json_str(&j, "xdp_libxdp",
				 l->attached ?
					 (strstr(l->how, "single") ? "single" : "dispatcher") :
					 "none");
			json_str(&j, "xdp_mode", strstr(l->how, "skb mode") ? "skb" : "native");
		}
		json_end(&j);
	}
	json_end(&j);
	json_array(&j, "stages");
	for (int i = 0; i < s->nr_stages; i++) {
		json_object(&j, NULL);
		json_u64(&j, "slot", s->stages[i].slot);
		json_str(&j, "name", s->stages[i].name);
		json_u64(&j, "prog_id", s->stages[i].prog_id);
		json_u64(&j, "entries", s->stages[i].entries);
		json_end(&j);
	}
	json_end(&j);
	json_array(&j, "sources");
	for (int i = 0; i < s->nr_sources; i++)
		json_str(&j, NULL, addr_format(&s->sources[i], buf, sizeof(buf)));
	json_end(&j);
	status_event_drops(name, drops);
	json_object(&j, "events_dropped");
	json_u64(&j, "buffer_full", drops[EVENT_DROP_FULL]);
	json_u64(&j, "rate_limited", drops[EVENT_DROP_RATE]);
	json_end(&j);
	memset(drops, 0, sizeof(drops));
	status_flow_drops(name, drops);
	json_object(&j, "flow_records_dropped");
	json_u64(&j, "buffer_half_full", drops[EVENT_DROP_FULL]);
	json_u64(&j, "rate_limited", drops[EVENT_DROP_RATE]);
	json_end(&j);
	json_object(&j, "counters");
	for (unsigned int r = 0; r < REASON_MAX; r++) {
		json_object(&j, reason_name(r));
		json_str(&j, "verdict", REASON_IS_ALLOW(r) ? "allow" : "deny");
		json_u64(&j, "packets", s->counts[r].packets);
		json_u64(&j, "bytes", s->counts[r].bytes);
		json_end(&j);
	}
	json_end(&j);
	if (s->cfg.flags & GEN_LEARN) {
		struct learned_addr *a = NULL;
		__u64 ev[LEARN_EV_MAX];
		int n = learn_state_read(name, &a);

		struct learn_config c;
		__u64 entries;

		json_learned(&j, "learned", a, n > 0 ? n : 0, NULL);
		free(a);
		if (!learn_bounds_read(name, &c, &entries)) {
			json_object(&j, "learn_bounds");
			json_u64(&j, "learned_addresses", entries);
			json_u64(&j, "max_addresses", c.max_addrs);
			json_u64(&j, "max_total", c.max_total);
			json_end(&j);
		}
		learn_counts_read(name, ev);
		json_object(&j, "answers");
		for (unsigned int e = 0; e < LEARN_EV_MAX; e++)
			json_u64(&j, learn_event_name(e), ev[e]);
		json_end(&j);
	}
	json_end(&j);
}

int status_show(const char *name, FILE *out, bool json, struct diag *d)
{
	struct status *s = malloc(sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = read_status(name, s, d);
	if (!err) {
		if (json)
			print_json(name, s, out);
		else
			print_human(name, s, out);
		err = s->lost ? -ENOLINK : 0;
	}
	free(s);
	return err;
}

int status_rules(const char *name, FILE *out, bool json, struct diag *d)
{
	char path[STATE_PATH_MAX], *line = NULL, buf[ADDR_STR_LEN];
	struct learned_addr *learned = NULL;
	struct rule_counters rc;
	struct json j;
	int nl;
	size_t cap = 0;
	FILE *f;

	state_path(path, sizeof(path), name, STATE_RULE_LIST);
	f = rule_list_open(name);
	if (!f) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s: %s)", name, path,
			   strerror(errno));
		return -ENOENT;
	}
	rule_counters_open(name, &rc);
	nl = learn_state_read(name, &learned);
	if (nl < 0)
		nl = 0;
	json_init(&j, out);
	if (json)
		json_array(&j, NULL);
	else
		fprintf(out, "%-5s %-10s %12s %14s  %s\n", "rule", "stage", "packets", "bytes",
			"where and what");
	while (getline(&line, &cap, f) > 0) {
		struct rule_list_entry e;
		struct pkt_count sum;
		char *host = NULL;

		if (rule_list_parse(line, &e))
			continue;
		/* a name rule: "allow tcp name HOST port ..." */
		if ((!strncmp(e.text, "allow tcp name ", 15) ||
		     !strncmp(e.text, "allow udp name ", 15)) &&
		    (host = strdup(e.text + 15)))
			host[strcspn(host, " ")] = '\0';
		/* this profile's counter, and what the same rule counted before it */
		rule_counters_get(&rc, e.id, &sum);
		sum.packets += e.carried.packets;
		sum.bytes += e.carried.bytes;
		if (json) {
			json_object(&j, NULL);
			json_u64(&j, "rule", e.id);
			json_str(&j, "stage", e.stage);
			json_str(&j, "file", e.file);
			json_int(&j, "line", e.line);
			json_str(&j, "text", e.text);
			json_u64(&j, "packets", sum.packets);
			json_u64(&j, "bytes", sum.bytes);
			if (host)
				json_learned(&j, "learned", learned, nl, host);
			json_end(&j);
		} else {
			fprintf(out, "%-5lu %-10s %12llu %14llu  ", e.id, e.stage,
				(unsigned long long)sum.packets, (unsigned long long)sum.bytes);
			text_plain(out, e.file);
			fprintf(out, ":%d: ", e.line);
			text_plain(out, e.text);
			fputc('\n', out);
			for (int i = 0; host && i < nl; i++)
				if (!strcmp(learned[i].host, host))
					fprintf(out,
						"%-44s learned %s (ttl %u, %llu.%llu s left)\n", "",
						addr_format(&learned[i].addr, buf, sizeof(buf)),
						learned[i].ttl,
						(unsigned long long)learned[i].left_ms / 1000,
						(unsigned long long)(learned[i].left_ms % 1000) /
							100);
		}
		free(host);
	}
	free(learned);
	if (json)
		json_end(&j);
	free(line);
	fclose(f);
	rule_counters_close(&rc);
	return 0;
}

int rule_info_get(const char *name, __u32 id, struct rule_info *ri)
{
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	memset(ri, 0, sizeof(*ri));
	f = rule_list_open(name);
	if (!f)
		return -ENOENT;
	while (err && getline(&line, &cap, f) > 0) {
		struct rule_list_entry e;

		if (rule_list_parse(line, &e) || e.id != id)
			continue;
		ri->stage = strdup(e.stage);
		ri->file = strdup(e.file);
		ri->text = strdup(e.text);
		ri->line = e.line;
		err = ri->stage && ri->file && ri->text ? 0 : -ENOMEM;
	}
	free(line);
	fclose(f);
	if (err)
		rule_info_free(ri);
	return err;
}

void rule_info_free(struct rule_info *ri)
{
	free(ri->stage);
	free(ri->file);
	free(ri->text);
	memset(ri, 0, sizeof(*ri));
}

void status_event_drops(const char *name, __u64 *drops)
{
	status_drops_of(name, "event_drops", drops);
}

void status_flow_drops(const char *name, __u64 *drops)
{
	status_drops_of(name, "flow_drops", drops);
}

void status_drops_of(const char *name, const char *map, __u64 *drops)
{
	int ncpu = libbpf_num_possible_cpus(), fd = pins_get(name, map);

	for (__u32 k = 0; fd >= 0 && ncpu > 0 && k < EVENT_DROP_MAX; k++) {
		__u64 vals[ncpu];

		drops[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			drops[k] += vals[c];
	}
	if (fd >= 0)
		close(fd);
}

int status_stage_names(const char *name, char names[STAGE_MAX_SLOTS][STAGE_NAME_LEN])
{
	struct status *s = malloc(sizeof(*s));
	struct diag d = {};
	int err;

	memset(names, 0, STAGE_MAX_SLOTS * STAGE_NAME_LEN);
	if (!s)
		return -ENOMEM;
	err = read_status(name, s, &d);
	for (int i = 0; !err && i < s->nr_stages; i++)
		if (s->stages[i].slot < STAGE_MAX_SLOTS)
			memcpy(names[s->stages[i].slot], s->stages[i].name, STAGE_NAME_LEN);
	diag_free(&d);
	free(s);
	return err;
}

int status_reason_count(const char *name, unsigned int reason, __u64 *packets, __u64 *bytes)
{
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;
	struct pkt_count *vals;

	if (ncpu < 0)
		return ncpu;
	fd = pins_get(name, "reasons");
	if (fd < 0)
		return fd;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals) {
		close(fd);
		return -ENOMEM;
	}
	*packets = *bytes = 0;
	if (bpf_map_lookup_elem(fd, &reason, vals)) {
		err = -errno;
	} else {
		for (int i = 0; i < ncpu; i++) {
			*packets += vals[i].packets;
			*bytes += vals[i].bytes;
		}
	}
	free(vals);
	close(fd);
	return err;
}
