/* explain.h: the installed pipeline's verdict on one packet, from a dry-run copy of it. */
#ifndef IRONCLAW_EXPLAIN_H
#define IRONCLAW_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>
#include "addr.h"
#include "diag.h"

struct explain_query {
	__u8 l4proto; /* IPPROTO_TCP (a SYN) or IPPROTO_UDP */
	struct addr dst; /* a single address */
	__u16 port;
	const char *tool; /* NULL: a sender of the sandbox that is no tool */
	const char *query; /* UDP: a DNS query for this name in the datagram; NULL: empty */
	__u16 qtype; /* its type (A = 1) */
	/* TCP: then a TLS ClientHello naming this server, the flow's first data; NULL: none */
	const char *server_name;
	const char *profile_dir; /* where the instance's stage objects are */
	const char *sandbox_cgroup; /* "" when the instance has none */
};

/*
 * Builds the packet, runs it through a dry-run copy of the instance's
 * pipeline at each hook kind the instance is attached to (from a process in
 * the tool's cgroup, so the packet carries the tool), prints the verdicts.
 * With a server name, the ClientHello after the SYN too, when every hook let
 * the SYN through (the dry https stage takes it as a new flow's first data:
 * docs/sni.md). Returns 0 when every hook lets them through, 1 when one
 * drops one, or -errno.
 * The caller holds the instance lock.
 */
int explain_run(const char *name, const struct explain_query *q, FILE *out, bool json,
		struct diag *d);

#endif
