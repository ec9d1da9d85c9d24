/* expect.h: a profile's tests (NN-name.test): what a packet should meet, line by line; no BPF. */
#ifndef IRONCLAW_EXPECT_H
#define IRONCLAW_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "addr.h"
#include "diag.h"

enum expect_kind {
	EXPECT_ADDR, /* expect allow|deny tcp|udp ADDR port P [server_name NAME] [tool T] */
	/* expect allow|deny tcp|udp name HOST port P [server_name NAME] [tool T]: HOST resolved */
	EXPECT_NAME,
	EXPECT_DNS, /* expect allow|deny dns NAME [tool T]: a query for NAME to a resolver */
};

struct expect {
	const char *file; /* owned by the set */
	int line;
	char *text; /* the line, words joined by one space */
	bool allow;
	enum expect_kind kind;
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP (EXPECT_DNS: UDP) */
	__u16 port; /* host order (EXPECT_DNS: 53) */
	struct addr dst; /* EXPECT_ADDR: one address */
	char *host; /* EXPECT_NAME: the host name; EXPECT_DNS: the query name */
	char *tool; /* the sending tool, or NULL: a process of no tool */
	/*
	 * TCP only: the flow's TLS ClientHello names this server (its first
	 * data after the SYN, docs/sni.md), or NULL: the SYN alone
	 */
	char *server_name;
};

struct expect_set {
	struct expect *v;
	size_t nr;
	char **files; /* every file name expectations point to */
	size_t nr_files;
};

/* one line of file; blank and comment lines add nothing; -EINVAL after a message */
int expect_parse_line(struct expect_set *s, const char *file, int line, const char *text,
		      struct diag *d);
/* the lines of one .test file, already opened; every line is read */
int expect_read(struct expect_set *s, FILE *f, const char *path, struct diag *d);
/* DIR's NN-name.test files in name order, each opened as a profile's file (trusted.h) */
int expect_load_dir(const char *dir, struct expect_set *s, struct diag *d);
void expect_free(struct expect_set *s);

#endif
