/* pipeline.h: loading, pinning, filling and attaching an instance, and switching it in one step. */
#ifndef IRONCLAW_PIPELINE_H
#define IRONCLAW_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>
#include <net/if.h>
#include "addr.h"
#include "cgroup.h"
#include "links.h"
#include "diag.h"
#include "netns.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"
#include "xdp.h"

#define PIPELINE_ROOT "/sys/fs/bpf/ironclaw"
#define PIPELINE_STATE_DIR "/run/ironclaw-pipe" /* what bpffs cannot hold: the rule list */
#define INSTANCE_NAME_MAX 32
#define PIPELINE_MAX_SOURCES 64
#define PIN_PATH_MAX 512
#define PIPELINE_MAX_LINKS 64 /* link pins one instance may hold */

enum attach_kind {
	ATTACH_TC_INGRESS, /* host-side end of the sandbox's veth: its egress arrives here */
	ATTACH_TC_EGRESS, /* the sandbox's own interface */
	ATTACH_CGROUP, /* the sandbox's cgroup: cgroup_skb egress, socket and connect hooks */
	ATTACH_XDP, /* XDP on the host-side end of the sandbox's veth, through libxdp */
};

struct attach_point {
	enum attach_kind kind;
	char ifname[IF_NAMESIZE];
	char netns[NETNS_NAME_MAX]; /* "" = the loader's own namespace */
	char cgroup[CGROUP_PATH_MAX]; /* ATTACH_CGROUP: below the cgroup v2 mount, no leading '/' */
};

struct install_req {
	const char *name;
	const struct profile *profile;
	const struct stage *stages;
	size_t nr_stages;
	const struct plan *plan;
	const struct addr *sources; /* the sandbox's own addresses */
	size_t nr_sources;
	const struct attach_point *points;
	size_t nr_points;
	__u32 tool_level; /* cgroup level of the tools; 0 = the sandbox's cgroup is unknown */
	bool has_tools; /* some rule names a tool: packets look their tool up */
	bool audit_all; /* install --audit: every denial passes, recorded as would-deny */
	__u32 audit_slots; /* bit s: the stage in slot s is audited */
	bool keep_block; /* reload and live edits: a blocked instance stays blocked */
	bool lock_held; /* the caller holds the instance lock (pipeline_lock) */
	bool xdp_programs; /* load (and pin) the XDP programs though no XDP point is attached:
			    * for BPF_PROG_TEST_RUN in tests and bench/ */
	/* called now and then while the rule maps fill (done of total entries); may be NULL */
	void (*progress)(size_t done, size_t total);
};

int instance_name_valid(const char *name);
/* mounts bpffs at /sys/fs/bpf when it is not there */
int pipeline_bpffs_ensure(struct diag *d);
/* the built-in stages (dns, https, internal), from the objects linked into the binary */
int pipeline_builtin_stages(struct stage *out, size_t max, struct diag *d);
int pipeline_install(const struct install_req *rq, struct diag *d);
/* the instance's lock, for a caller that reads its state before installing; fd or -errno */
int pipeline_lock(const char *name, struct diag *d);
/* the instance's control word holds CTL_BLOCKED */
bool pipeline_blocked(const char *name);
/* deny-all: every packet is dropped with reason "blocked" until the next install */
int pipeline_block(const char *name, struct diag *d);
int pipeline_uninstall(const char *name, struct diag *d);
int pipeline_status(const char *name, FILE *out, bool json, struct diag *d);
/* sums the per-CPU counters of one reason; -errno when the instance is not there */
int pipeline_reason_count(const char *name, unsigned int reason, __u64 *packets, __u64 *bytes);
/* the sandbox addresses of generation gen (-1: the one in force); count or -errno */
int pipeline_sources(const char *name, int gen, struct addr *out, size_t max);
/* PIPELINE_STATE_DIR/NAME+suffix: ".rules" (the rule list), ".conf" (how it was installed),
 * ".d" (the live edits of allow and revoke, read after the profile) */
void pipeline_state_path(char *buf, size_t len, const char *name, const char *suffix);
/* the installed rules of an instance, one a line: number, stage, file, line, text */
void pipeline_rule_list_path(char *buf, size_t len, const char *name);
int pipeline_rules(const char *name, FILE *out, bool json, struct diag *d);
/* one line of the rule list */
struct rule_info {
	char *stage, *file, *text;
	int line;
};
/* rule number id of the installed profile: 0, or -ENOENT */
int pipeline_rule_info(const char *name, __u32 id, struct rule_info *ri);
void rule_info_free(struct rule_info *ri);
/* the denials in the ring buffer, then (follow) as they come, until SIGINT or SIGTERM */
int pipeline_log(const char *name, bool follow, bool json, FILE *out, struct diag *d);
/* the would-deny events so far as profile lines (grouped, with counts); consumes them */
int pipeline_suggest(const char *name, FILE *out, struct diag *d);
/* s as a JSON string, quotes and control characters escaped */
void pipeline_json_string(FILE *out, const char *s);
/* s for a terminal line: control characters and '\' as \xNN */
void pipeline_plain_string(FILE *out, const char *s);
/* events lost: drops[EVENT_DROP_FULL], drops[EVENT_DROP_RATE] (event.h) */
void pipeline_event_drops(const char *name, __u64 *drops);
/* the name of the stage in each slot of the generation in force ("" for none) */
int pipeline_stage_names(const char *name, char names[STAGE_MAX_SLOTS][STAGE_NAME_LEN]);
/* how the XDP entry pinned as pin is attached at pt (xdp.h); its id and the ifindex */
enum xdp_attach_how pipeline_xdp_state(const char *name, const char *pin,
				       const struct attach_point *pt, __u32 *prog_id, int *ifindex,
				       bool *generic);
/* fd of a pinned object of an instance ("dispatch_tc", "ctl", ...) or -errno */
int pipeline_pin_get(const char *name, const char *object);

/*
 * explain: a copy of the instance's pipeline, loaded with dry_run set: it
 * judges with the instance's maps and records nothing. Its stages come from
 * candidates (the built-in ones and the profile's objects), checked to be the
 * code the instance runs. The caller holds the instance lock.
 */
struct dry_pipeline;
int pipeline_dry_load(const char *name, const struct stage *candidates, size_t nr,
		      bool cgroup_skb, bool xdp, __u64 tool, struct dry_pipeline **out,
		      struct diag *d);
/* the dispatcher of a hook (STAGE_HOOK_TC, _CGSKB, _XDP) or -ENOENT */
int pipeline_dry_prog(const struct dry_pipeline *dp, enum stage_hook hook);
void pipeline_dry_free(struct dry_pipeline *dp);

/* pin names (bpffs refuses '.' in them) */
#define PIN_RULES_PREFIX "rules-"
#define PIN_STAGE_PREFIX "stage-"
#define PIN_LINK_PREFIX "link-"
#define PIN_NAME_MAX 256
void pin_name_rules(char *buf, size_t len, const char *stage);
void pin_name_stage(char *buf, size_t len, const char *stage);
int pin_parse_stage(const char *pin, char *stage, size_t len);
/* "" when the name does not fit in a pin (a very long cgroup path) */
void pin_name_link(char *buf, size_t len, const struct attach_point *pt, enum link_hook hook);
int pin_parse_link(const char *pin, struct attach_point *pt, enum link_hook *hook);
/* the link hooks one attach point is made of, into out (room for ATTACH_MAX_HOOKS); count */
#define ATTACH_MAX_HOOKS 8
size_t attach_point_hooks(const struct attach_point *pt, enum link_hook *out);

#endif
