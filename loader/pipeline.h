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

#define PIPELINE_ROOT "/sys/fs/bpf/ironclaw"
#define PIPELINE_STATE_DIR "/run/ironclaw-pipe" /* what bpffs cannot hold: the rule list */
#define INSTANCE_NAME_MAX 32
#define PIPELINE_MAX_SOURCES 64
#define PIN_PATH_MAX 512

enum attach_kind {
	ATTACH_TC_INGRESS, /* host-side end of the sandbox's veth: its egress arrives here */
	ATTACH_TC_EGRESS, /* the sandbox's own interface */
	ATTACH_CGROUP, /* the sandbox's cgroup: cgroup_skb egress, socket and connect hooks */
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
/* fd of a pinned object of an instance ("dispatch_tc", "ctl", ...) or -errno */
int pipeline_pin_get(const char *name, const char *object);

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
/* the link hooks one attach point is made of */
void attach_point_hooks(const struct attach_point *pt, enum link_hook *first,
			enum link_hook *last);

#endif
