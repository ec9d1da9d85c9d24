/*
 * test_learn_names.c: wildcard name rules (on label boundaries), the bounds
 * on learned addresses (per name, per instance, expired ones giving their
 * place up) and resolver scoping ('via'), in the real pipeline of a test
 * instance (learn_run.h): queries through host-side tc ingress, answers
 * through the learning program, then packets to what was learned.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pipeline.h"
#include "policy.h"
#include "reasons.h"
#include "dns_names.h"
#include "learn_maps.h"
#include "pkt.h"
#include "learn_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const names_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow udp 10.42.0.54 port 53",
	"allow tcp name *.github.com port 443",
	"allow tcp name api.github.com port 8080",
	"allow tcp name log.internal.corp port 8443 via 10.42.0.53",
	"allow tcp name *.many.corp port 9443",
	"dns learn grace 0 max-ttl 100 max-addresses 40 max-total 45 rate 1000",
};

static void setup(void)
{
	snprintf(inst, sizeof(inst), "learnnames%d", getpid());
	install_lines(names_profile, ARRAY_SIZE(names_profile));
}

TestSuite(learn_names, .init = setup, .fini = remove_instance);

/* the query for name (A) from the sandbox's port sport to resolver */
static void query_to(const char *resolver, const char *name, uint16_t sport)
{
	FRAME(m);
	FRAME(p);

	dns_query(&m, name, 1);
	dns_frame(&p, "10.42.0.2", resolver, sport, 53, &m);
	query_frame(name, &p, 0);
}

/* name asked and answered with one address by the resolver at 10.42.0.53 */
static void learn_one(const char *what, const char *name, const char *addr, uint16_t sport,
		      unsigned int ev, __u64 n, __u64 learned)
{
	FRAME(m);

	query(name, 1, sport);
	a_answer(&m, name, 60, addr);
	expect_answer(what, "10.42.0.53", sport, &m, ev, n, learned);
}

Test(learn_names, wildcard_on_label_boundaries)
{
	learn_one("below the suffix", "x.github.com", "10.42.8.1", 34001, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("x.github.com's address", "10.42.8.1", 40000, 443, SYN, REASON_RULE);
	expect_tcp("not on the exact name's port", "10.42.8.1", 40000, 8080, SYN, REASON_NO_RULE);
	learn_one("two labels below", "a.b.github.com", "10.42.8.2", 34002, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("a.b.github.com's address", "10.42.8.2", 40000, 443, SYN, REASON_RULE);
	learn_one("any case", "X.GitHub.COM", "10.42.8.3", 34003, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("X.GitHub.COM's address", "10.42.8.3", 40000, 443, SYN, REASON_RULE);
	/* no followed name: the query is not recorded for learning, its answer teaches nothing */
	learn_one("the suffix itself", "github.com", "10.42.8.4", 34004, LEARN_EV_LEARNED, 0, 0);
	expect_tcp("github.com's address", "10.42.8.4", 40000, 443, SYN, REASON_NO_RULE);
	learn_one("not on a label boundary", "evilgithub.com", "10.42.8.5", 34005, LEARN_EV_LEARNED,
		  0, 0);
	expect_tcp("evilgithub.com's address", "10.42.8.5", 40000, 443, SYN, REASON_NO_RULE);
	learn_one("the suffix in the middle", "github.com.evil", "10.42.8.6", 34006,
		  LEARN_EV_LEARNED, 0, 0);
	expect_tcp("github.com.evil's address", "10.42.8.6", 40000, 443, SYN, REASON_NO_RULE);
	/* an exact name below the wildcard: learned under its own name, allowed on both ports */
	learn_one("the exact name", "api.github.com", "10.42.8.7", 34007, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("api.github.com on its own port", "10.42.8.7", 40000, 8080, SYN, REASON_RULE);
	expect_tcp("api.github.com on the wildcard's port", "10.42.8.7", 40000, 443, SYN,
		   REASON_RULE);
	/* a name below the exact one is the wildcard's only */
	learn_one("below the exact name", "x.api.github.com", "10.42.8.8", 34008, LEARN_EV_LEARNED,
		  1, 1);
	expect_tcp("x.api.github.com on the wildcard's port", "10.42.8.8", 40000, 443, SYN,
		   REASON_RULE);
	expect_tcp("x.api.github.com on the exact name's port", "10.42.8.8", 40000, 8080, SYN,
		   REASON_NO_RULE);
}

/* an answer from the sandbox's port sport with the addresses 10.42.9.first.. (count of them) */
static void many_answer(const char *name, uint16_t sport, int first, int count, uint32_t ttl,
			unsigned int ev, __u64 n, __u64 learned)
{
	char addr[32], what[64];
	FRAME(m);

	query(name, 1, sport);
	dns_answer_hdr(&m, 0, count);
	pkt_dns_question(&m, name, 1, 1);
	for (int i = 0; i < count; i++) {
		snprintf(addr, sizeof(addr), "10.42.9.%d", first + i);
		dns_rr_a(&m, 12, ttl, addr);
	}
	snprintf(what, sizeof(what), "%s: 10.42.9.%d-%d", name, first, first + count - 1);
	expect_answer(what, "10.42.0.53", sport, &m, ev, n, learned);
}

static __u64 entries(void)
{
	struct learn_config c;
	__u64 n = 0;

	cr_assert_eq(learn_bounds_read(inst, &c, &n), 0);
	cr_assert_eq(c.max_addrs, 40);
	cr_assert_eq(c.max_total, 45);
	return n;
}

/* max-addresses 40: 40 addresses of a name learned, the 41st refused and counted */
Test(learn_names, max_addresses)
{
	char addr[32];

	many_answer("a.many.corp", 34101, 1, 16, 60, LEARN_EV_LEARNED, 16, 16);
	many_answer("b.many.corp", 34102, 17, 16, 60, LEARN_EV_LEARNED, 16, 16);
	/* nine more for the wildcard's one name id: the ninth is over the bound */
	many_answer("c.many.corp", 34103, 33, 9, 60, LEARN_EV_CAP, 1, 8);
	cr_expect_eq(entries(), 40);
	for (int i = 1; i <= 40; i++) {
		snprintf(addr, sizeof(addr), "10.42.9.%d", i);
		expect_tcp(addr, addr, 40000, 9443, SYN, REASON_RULE);
	}
	expect_tcp("the 41st", "10.42.9.41", 40000, 9443, SYN, REASON_NO_RULE);
	/* the same addresses again renew theirs: no bound reached */
	many_answer("a.many.corp", 34104, 1, 16, 60, LEARN_EV_CAP, 0, 16);
	cr_expect_eq(entries(), 40);
	/* max-total 45: another name gets the 5 left */
	many_answer("x.github.com", 34105, 101, 8, 60, LEARN_EV_TOTAL, 3, 5);
	cr_expect_eq(entries(), 45);
	expect_tcp("the 5th of another name", "10.42.9.105", 40000, 443, SYN, REASON_RULE);
	expect_tcp("the 6th of another name", "10.42.9.106", 40000, 443, SYN, REASON_NO_RULE);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* expired addresses give their places up when a bound is reached */
Test(learn_names, expired_give_up_their_place)
{
	many_answer("a.many.corp", 34201, 1, 16, 1, LEARN_EV_LEARNED, 16, 16);
	many_answer("a.many.corp", 34202, 17, 16, 1, LEARN_EV_LEARNED, 16, 16);
	many_answer("a.many.corp", 34203, 33, 8, 1, LEARN_EV_LEARNED, 8, 8);
	cr_expect_eq(entries(), 40);
	sleep_ms(1200);
	expect_tcp("expired", "10.42.9.1", 40000, 9443, SYN, REASON_NAME_EXPIRED);
	many_answer("a.many.corp", 34204, 41, 2, 60, LEARN_EV_CAP, 0, 2);
	cr_expect_eq(entries(), 2, "the expired ones are deleted");
	expect_tcp("a new one", "10.42.9.41", 40000, 9443, SYN, REASON_RULE);
	expect_tcp("an expired one, deleted", "10.42.9.1", 40000, 9443, SYN, REASON_NO_RULE);
}

/* 'via 10.42.0.53': the other resolver's answer teaches nothing */
Test(learn_names, via_resolver)
{
	FRAME(m);

	query_to("10.42.0.54", "log.internal.corp", 34301);
	a_answer(&m, "log.internal.corp", 60, "10.42.8.31");
	expect_answer("from the other resolver", "10.42.0.54", 34301, &m, LEARN_EV_NOT_VIA, 1, 0);
	expect_tcp("not learned", "10.42.8.31", 40000, 8443, SYN, REASON_NO_RULE);
	/* names without 'via' learn from either resolver */
	query_to("10.42.0.54", "x.github.com", 34302);
	a_answer(&m, "x.github.com", 60, "10.42.8.32");
	expect_answer("a name without via", "10.42.0.54", 34302, &m, LEARN_EV_LEARNED, 1, 1);
	learn_one("from the resolver via names", "log.internal.corp", "10.42.8.31", 34303,
		  LEARN_EV_LEARNED, 1, 1);
	expect_tcp("learned", "10.42.8.31", 40000, 8443, SYN, REASON_RULE);
}

/*
 * A reload keeps each name's id; a name new in it gets a new one, even when
 * a shorter wildcard over it (another name) is in the other generation
 */
Test(learn_names, reload_new_name_below_a_wildcard)
{
	static const char *const more[] = {
		"allow udp 10.42.0.53 port 53",
		"allow udp 10.42.0.54 port 53",
		"allow tcp name *.many.corp port 9443",
		"allow tcp name *.x.many.corp port 7443",
		"dns learn grace 0 max-ttl 100 max-addresses 40 max-total 45 rate 1000",
	};

	learn_one("a.many.corp", "a.many.corp", "10.42.9.1", 34401, LEARN_EV_LEARNED, 1, 1);
	install_lines(more, ARRAY_SIZE(more));
	expect_tcp("kept across the reload", "10.42.9.1", 40000, 9443, SYN, REASON_RULE);
	expect_tcp("not the new name's", "10.42.9.1", 40000, 7443, SYN, REASON_NO_RULE);
	learn_one("b.x.many.corp", "b.x.many.corp", "10.42.9.2", 34402, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("the new name's", "10.42.9.2", 40000, 7443, SYN, REASON_RULE);
	expect_tcp("and the wildcard's over it", "10.42.9.2", 40000, 9443, SYN, REASON_RULE);
}
