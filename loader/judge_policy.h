/* judge_policy.h: what the reference judge takes as given (its policy) and what it says (its verdict). */
#ifndef IRONCLAW_JUDGE_POLICY_H
#define IRONCLAW_JUDGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "addr.h"
#include "hooks.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"

/*
 * What the judge takes as given: the loader's plan (which stage holds which
 * rule, which stage claims which {protocol, port}) over the profile and its
 * stages, the sandbox's source addresses and the instance's state. The
 * packet side (parsing, source, fragments, class, lookup, DNS query checks)
 * is written again here from the documented behaviour, without the BPF
 * code: a disagreement with the pipeline is a bug in one of them.
 *
 * Not modelled (a frame needing them is judged as if they were absent):
 * audit mode, addresses learned from DNS (name rules match nothing; but see
 * learned_host), the expiry of learned addresses and their flows, skb
 * metadata such as a VLAN tag outside the frame, and the layer-2 checks of a
 * host-side link (frames are judged as arriving on no such link, as a test
 * run without an ingress ifindex gives them; ND and MLD rules apply anyway).
 */
struct judge_policy {
	const struct profile *prof;
	const struct plan *plan;
	const struct stage *stages; /* the plan's stage indices point here */
	size_t nr_stages;
	const struct addr *sources; /* the sandbox's own addresses, each one whole address */
	size_t nr_sources;
	bool blocked; /* the instance's deny-all state */
	/*
	 * Non-NULL: the destination is an address DNS taught for this host name
	 * (profile tests' 'expect ... name HOST'): only name rules for HOST (its
	 * own name, or a wildcard *.SUFFIX above it) allow it, no address rule.
	 * The address is learned for HOST's followed name alone. At tc the
	 * https stage's check of TLS server names applies (docs/sni.md): a
	 * TCP segment with data is taken as the flow's first data after its
	 * SYN (its sequence number is not checked), which must be a
	 * ClientHello naming a host the address was learned for.
	 */
	const char *learned_host;
};

#define JUDGE_NO_RULE (-1)

struct judge_verdict {
	bool allow;
	unsigned int reason; /* enum reason */
	int rule; /* the address rule that decided (a profile_origin id), or JUDGE_NO_RULE */
	int name_rule; /* an allowed DNS query's 'allow dns' line (origin id), or JUDGE_NO_RULE */
	__u32 slot; /* the stage slot the class chose, 0 = none */
};

#endif
