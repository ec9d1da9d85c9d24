/*
 * test_rules4_run.c: a stage's lookup in its table rules4 (include/rule_table.h), by
 * BPF_PROG_TEST_RUN at tc and XDP: a hit, a miss, keys of one home slot, a revoked key
 * in the middle of their run, and the probe bound. The test writes the installed
 * table's slots itself (rules4.c, as an edit in place does) to force the runs.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include "pipeline_run.h"
#include "rules4.h"

/* more entries than a stage bakes: the stage asks rules4 */
static const char *const many[] = { "allow udp 10.42.7.11 port 9000-9019",
				    "allow tcp 10.42.7.11 port 8080" };

static struct rules4 tab;
static __u8 gen;

static __u64 key_of(__u32 addr_host)
{
	struct policy_key4 k = {
		.daddr = htonl(addr_host), .dport = htons(9005), .l4proto = IPPROTO_UDP, .gen = gen
	};

	return rules4_key(&k);
}

static void setup(void)
{
	char pin[64];
	int fd;

	_Static_assert(20 > STAGE_BAKED_MAX, "more entries than a stage bakes");
	snprintf(inst, sizeof(inst), "bpft4%d", getpid());
	install_lines(many, 2);
	pin_name_rules4(pin, sizeof(pin), "internal");
	fd = pins_get(inst, pin);
	cr_assert_geq(fd, 0, "no pinned %s", pin);
	cr_assert_eq(rules4_map(fd, true, &tab), 0, "cannot map %s", pin);
	close(fd);
	/* the generation in force: the one its installed key has */
	gen = 0;
	if (!rules4_find(&tab, key_of(0x0a2a070b)))
		gen = 1;
	cr_assert_not_null(rules4_find(&tab, key_of(0x0a2a070b)), "installed key not in rules4");
}

static void teardown(void)
{
	rules4_unmap(&tab);
	remove_instance();
}

TestSuite(rules4_run, .init = setup, .fini = teardown);

/* udp 9005 to addr_host: reason want at tc and XDP */
static void expect_to(const char *what, __u32 addr_host, unsigned int want)
{
	char dst[INET_ADDRSTRLEN], name[128];
	struct in_addr a = { .s_addr = htonl(addr_host) };
	FRAME(p);

	inet_ntop(AF_INET, &a, dst, sizeof(dst));
	snprintf(name, sizeof(name), "%s (%s)", what, dst);
	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(&p, &(struct pkt_ip4){
			     .src = ADDR("10.42.0.2"), .dst = ADDR(dst), .proto = IPPROTO_UDP });
	pkt_udp(&p, TEST_SPORT, 9005);
	cr_assert_eq(pkt_finish(&p), 0);
	expect(name, &p, want);
}

static __u32 home_of(__u32 addr_host)
{
	return rule_table_home(rule_table_word(key_of(addr_host)), 64 - tab.bits);
}

/* n addresses of 10.43/16 whose keys share one home slot, an empty one */
static void same_home(__u32 *a, size_t n)
{
	for (__u32 base = 0x0a2b0001;; base++) {
		size_t got = 0;

		if (tab.slots[home_of(base)].key != RULE_SLOT_EMPTY)
			continue;
		for (__u32 x = base; got < n && x < base + 0x10000; x++)
			if (home_of(x) == home_of(base))
				a[got++] = x;
		if (got == n)
			return;
	}
}

static void add(__u32 addr_host)
{
	cr_assert_eq(
		rules4_add(&tab, key_of(addr_host), &(struct policy_value){ .rule_id = 0 }, true),
		0);
}

Test(rules4_run, a_run_of_one_home_slot_with_a_revoked_key_in_its_middle)
{
	__u32 a[4];

	same_home(a, 4);
	expect_to("the installed rule", 0x0a2a070b, REASON_RULE);
	add(a[0]);
	add(a[1]);
	add(a[2]);
	cr_assert_eq(rules4_find(&tab, key_of(a[2])) - tab.slots, home_of(a[0]) + 2,
		     "the run is not one slot after another");
	expect_to("first of a run", a[0], REASON_RULE);
	expect_to("third of a run", a[2], REASON_RULE);
	expect_to("a miss at the end of a run", a[3], REASON_NO_RULE);
	cr_assert_eq(rules4_del(&tab, key_of(a[1])), 0);
	expect_to("revoked in the middle of a run", a[1], REASON_NO_RULE);
	expect_to("past a revoked key", a[2], REASON_RULE);
}

Test(rules4_run, no_lookup_reads_past_the_probe_bound)
{
	size_t bytes = tab.len;
	void *saved = malloc(bytes);
	__u32 y = 0x0a2c0001, h = home_of(y), other = 0x0a2d0001;

	cr_assert_not_null(saved);
	memcpy(saved, tab.slots, bytes);
	/* every slot of y's run taken by another key (revoked: a lookup walks past it) */
	for (__u32 n = 0; n <= RULE_TABLE_PROBES; n++)
		tab.slots[h + n].key = rule_table_word(key_of(other)) & ~RULE_SLOT_LIVE;
	tab.slots[h + RULE_TABLE_PROBES - 1].v = (struct policy_value){ .rule_id = 0 };
	__atomic_store_n(&tab.slots[h + RULE_TABLE_PROBES - 1].key, rule_table_word(key_of(y)),
			 __ATOMIC_RELEASE);
	expect_to("the last slot within the bound", y, REASON_RULE);
	tab.slots[h + RULE_TABLE_PROBES - 1].key = rule_table_word(key_of(other)) & ~RULE_SLOT_LIVE;
	tab.slots[h + RULE_TABLE_PROBES].v = (struct policy_value){ .rule_id = 0 };
	__atomic_store_n(&tab.slots[h + RULE_TABLE_PROBES].key, rule_table_word(key_of(y)),
			 __ATOMIC_RELEASE);
	expect_to("the first slot past the bound", y, REASON_NO_RULE);
	memcpy(tab.slots, saved, bytes);
	free(saved);
	expect_to("the installed rule, the table restored", 0x0a2a070b, REASON_RULE);
}
