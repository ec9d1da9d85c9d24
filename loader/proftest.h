/* proftest.h: a profile's tests run with the reference judge over the loader's plan: no root, no BPF. */
#ifndef IRONCLAW_PROFTEST_H
#define IRONCLAW_PROFTEST_H

#include <stdio.h>
#include "expect.h"
#include "judge.h"
#include "ruleset.h"

/* the tool of a test line that no rule names: a cgroup id no rule has */
#define PROFTEST_OTHER_TOOL 0x1c1a0000ffffull

/*
 * Stand-in cgroup ids for the tools of a profile planned without a sandbox
 * cgroup (tool_id 0): one per name, the same for every line naming it.
 */
void proftest_tools(struct profile *p);
/* the cgroup id of the tool a test line names (0: none; PROFTEST_OTHER_TOOL: a tool no rule names) */
__u64 proftest_tool_id(const struct profile *p, const char *tool);

/*
 * The frame of a test line, from src4 or src6 (the sandbox's addresses): a
 * TCP SYN or a UDP datagram from port 40000; 'dns NAME' a query of type A
 * for NAME to the first resolver that the line's tool may ask ('allow udp
 * ADDR port 53'); 'name HOST' to an address no address rule covers, the one
 * *learned_host is then set for (judge.h). hello: the TCP segment after the
 * SYN instead, carrying a TLS ClientHello for the line's server_name
 * (pkt_tls_hello). -EINVAL after a message when the profile has no resolver
 * for a 'dns' line.
 */
#define PROFTEST_FRAME_MAX 512
int proftest_frame(const struct expect *e, const struct judge_policy *pol, __u64 tool, bool hello,
		   const struct addr *src4, const struct addr *src6, __u8 *buf, size_t size,
		   size_t *len, const char **learned_host, struct diag *d);

/*
 * The judge's verdict on a test line at tc: its frame's; with server_name,
 * the SYN's when it denies, else the hello's (proftest_frame). 0 or -errno.
 */
int proftest_judge(const struct expect *e, struct judge_policy *pol, __u64 tool,
		   const struct addr *src4, const struct addr *src6, struct judge_verdict *v,
		   struct diag *d);

/* "allow (rule) by FILE:LINE ('TEXT')" or "deny (no_rule)": a verdict for people */
void proftest_verdict_text(const struct profile *p, const struct judge_verdict *v, char *buf,
			   size_t size);

/*
 * Runs every test line of s against the ruleset (its tools given ids first:
 * proftest_tools): judged at tc, from the line's tool. Each line that fails
 * is an error of d, "FILE:LINE: 'expect ...' failed: the judge says VERDICT
 * (REASON) by FILE:LINE ('RULE')"; *failed counts them. Returns 0, or -errno
 * when a line could not be run (after a message in d).
 */
int proftest_run(const struct ruleset *rs, const struct expect_set *s, size_t *failed,
		 struct diag *d);

#endif
