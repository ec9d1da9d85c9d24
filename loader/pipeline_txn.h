/* pipeline_txn.h: private to the pipeline's phases: one install's transaction and what it loaded. */
#ifndef IRONCLAW_PIPELINE_TXN_H
#define IRONCLAW_PIPELINE_TXN_H

#include <pthread.h>
#include <stdbool.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "install_req.h"
#include "pins.h"
#include "state.h"
#include "tc_classic.h"
#include "dispatcher.skel.h"

struct l2_entry; /* pipeline_l2.h */
struct fill_job; /* pipeline_fill.c */

struct loaded_stage {
	struct bpf_object *obj;
	int prog_fds[NR_HOOKS]; /* by hook id; -1 where that hook is not loaded */
	int rules_fd;
	bool rules_made; /* made by this install: holds no generation but this one */
	bool rules_pinned_here; /* pinned by this install: unpin on failure */
	bool rules_replaced; /* it replaces a pinned map: re-pin after the flip */
	int rules4_fd; /* an exact stage's IPv4 rules of every process; -1: none (prefix) */
	bool rules4_made;
	bool rules4_pinned_here;
	bool rules4_replaced;
	bool baked; /* its entries are in its program's read-only data (stage_baked) */
};

/* a classic tc filter made or moved by an install (pipeline_tc.c) */
struct tc_filter_change {
	struct attach_point pt;
	enum link_hook hook;
	char pin[PIN_NAME_MAX];
	struct tc_filter f;
	int old_prog; /* moved: the program it ran before; -1: made by this install */
	__u32 new_prog_id; /* the program it runs now */
};

/* one install (or explain's dry copy): what it loaded and changed, to finish or undo it */
struct txn {
	char dir[STATE_PATH_MAX]; /* the instance's pin directory */
	bool existing; /* the instance was installed before: this is a switch */
	bool cgroup_hooks; /* load the cgroup programs: a cgroup is (or will be) attached */
	bool dry_run; /* explain's copy: records nothing, has its own prog arrays */
	__u64 dry_tool; /* and judges as sent by this tool (cgroup id; 0: none) */
	bool xdp_hooks; /* load the XDP programs: an XDP point is (or will be) attached */
	bool xdp_generic; /* attach in skb mode: tool rules need the socket at tc ingress */
	bool host_side_tc; /* a --tc-ingress point: the only place learning happens */
	__u64 xdp_mark; /* the generation's in xdp_marks, in its stages too; 0: none */
	bool sni_skip; /* no name rule is checked (GEN_SNI clear): stages load without the
			* server-name check (its sni_check cleared), verified in a tenth
			* of the time */
	__u64 fresh_maps; /* bit i: shared_maps[i] made anew over an older build's (or none):
			   * pinned at the switch */
	bool reasons_grown; /* the instance's reasons map is an earlier build's, smaller: */
	int reasons_old; /* its fd, copied into this install's and replaced by it */
	struct l2_entry *l2; /* the host-side points' layer-2 settings, read before anything */
	size_t nr_l2;
	__u32 old_ctl, gen;
	struct dispatcher *skel;
	struct loaded_stage *ls;
	size_t nr_ls;
	bool fill_started; /* the stages' rule maps are filled by threads (pipeline_fill.c) */
	unsigned long long list_token; /* the new rule list's (rule_edits.h), drawn in txn_build */
	bool list_beside; /* the new rule list is written beside the old one, not renamed yet */
	struct fill_job *fill_jobs; /* their threads and results, until joined; NULL: none */
	size_t nr_fill_jobs;
	/* attachments made or moved, for a rollback (pipeline_attach.c) */
	int xdp_map; /* xdp_dispatch: the XDP dispatcher xdp_entry tail-calls; -1 */
	bool xdp_map_new;
	int xdp_old_dispatcher; /* what xdp_dispatch held before; -1 */
	struct attach_point *xdp_new; /* XDP attachments made by this install */
	__u32 *xdp_new_ids;
	size_t nr_xdp_new;
	int *new_links; /* links this install created */
	char (*new_link_pins)[PIN_PATH_MAX];
	size_t nr_new_links;
	int *updated_links; /* existing links moved to the new dispatcher */
	int *updated_old_progs; /* and the program each had before */
	size_t nr_updated;
	enum tc_attach_mode tc_mode; /* how new tc points attach */
	struct tc_filter_change *tc_changes;
	size_t nr_tc_changes;
};

#define TXN_INIT                                                                                   \
	{                                                                                          \
		.xdp_map = -1, .xdp_old_dispatcher = -1                                            \
	}

void txn_free(struct txn *t);

#endif
