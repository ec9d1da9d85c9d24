/* test_counts.c: the installed rule list's lines, and counters carried to the rules that stay. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "counts.h"

Test(rule_list, a_line_written_parses_back)
{
	struct pkt_count carried = { .packets = 12, .bytes = 3456 };
	struct rule_list_entry e;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	rule_list_write(f, 7, "internal", "/etc/ironclaw/rules.d/30-internal.rules", 3, &carried,
			"allow tcp 10.42.7.11 port 8080 tool memscraper  # the\tcollector");
	fclose(f);
	cr_assert_eq(rule_list_parse(buf, &e), 0, "'%s' does not parse", buf);
	cr_assert_eq(e.id, 7);
	cr_assert_str_eq(e.stage, "internal");
	cr_assert_str_eq(e.file, "/etc/ironclaw/rules.d/30-internal.rules");
	cr_assert_eq(e.line, 3);
	cr_assert_eq(e.carried.packets, 12);
	cr_assert_eq(e.carried.bytes, 3456);
	cr_assert_str_eq(e.text,
			 "allow tcp 10.42.7.11 port 8080 tool memscraper  # the\tcollector");
	free(buf);
}

Test(rule_list, a_short_line_is_refused)
{
	char line[] = "7\tinternal\tfile\t3\tallow tcp 10.42.7.11 port 8080";
	struct rule_list_entry e;

	cr_assert_eq(rule_list_parse(line, &e), -EINVAL);
}

/* the same text in a file of the same name keeps its count; anything else starts at 0 */
Test(counts, carried_to_the_same_rule_only)
{
	struct rule_list_entry old[] = {
		{ .id = 0,
		  .stage = "dns",
		  .file = "rules.d/10-dns.rules",
		  .text = "allow udp 10.42.0.53 port 53",
		  .carried = { 5, 500 } },
		{ .id = 1,
		  .stage = "internal",
		  .file = "rules.d/30-internal.rules",
		  .text = "allow tcp 10.42.7.11 port 8080",
		  .carried = { 9, 900 } },
	};
	struct counts_snapshot s = { .rules = old, .nr = 2 };
	struct pkt_count sum;

	/* found as counts_snapshot_take finds them: by file name and text */
	cr_assert_eq(counts_snapshot_index(&s), 0);
	counts_carried_over(&s, "/abs/rules.d/30-internal.rules", "allow tcp 10.42.7.11 port 8080",
			    &sum);
	cr_assert_eq(sum.packets, 9, "a reload names the file by absolute path: same rule");
	cr_assert_eq(sum.bytes, 900);
	counts_carried_over(&s, "rules.d/10-dns.rules", "allow udp 10.42.0.53 port 53", &sum);
	cr_assert_eq(sum.packets, 5);
	counts_carried_over(&s, "rules.d/30-internal.rules", "allow tcp 10.42.7.11 port 8081",
			    &sum);
	cr_assert_eq(sum.packets, 0, "a changed rule starts at 0");
	counts_carried_over(&s, "rules.d/40-other.rules", "allow tcp 10.42.7.11 port 8080", &sum);
	cr_assert_eq(sum.packets, 0, "the same text in another file is another rule");
	counts_carried_over(NULL, "rules.d/10-dns.rules", "allow udp 10.42.0.53 port 53", &sum);
	cr_assert_eq(sum.packets, 0, "a new instance carries nothing");
	free(s.slots);
}

/*
 * A list written before the flip carries what the old rules carried; the index made after
 * it (with the counters) does not add that twice; of one rule twice, the line that counted
 */
Test(counts, carried_once_by_either_index)
{
	struct rule_list_entry old[] = {
		{ .id = 0, .file = "a/10.rules", .text = "allow udp 10.0.0.1 port 53" },
		{ .id = 1,
		  .file = "b/10.rules",
		  .text = "allow udp 10.0.0.1 port 53",
		  .carried = { 4, 400 } },
		{ .id = 2,
		  .file = "a/20.rules",
		  .text = "allow tcp 10.0.0.2 port 80",
		  .carried = { 7, 700 } },
	};
	/* the old generation's counters, as rule_counters_get finds them once read */
	struct pkt_count in_entries[3] = { [2] = { 3, 30 } };
	struct rule_counters rc = { .counts_fd = -1,
				    .gen = 0,
				    .summed = true,
				    .in_entries = in_entries,
				    .nr_in_entries = 3 };
	struct counts_snapshot s = { .rules = old, .nr = 3 };
	struct pkt_count sum;

	cr_assert_eq(counts_snapshot_index_carried(&s), 0);
	cr_assert_not(counts_snapshot_counted(&s), "no counters: none moved");
	counts_carried_over(&s, "c/20.rules", "allow tcp 10.0.0.2 port 80", &sum);
	cr_assert_eq(sum.packets, 7, "before the flip: what it carried");
	counts_carried_over(&s, "c/10.rules", "allow udp 10.0.0.1 port 53", &sum);
	cr_assert_eq(sum.packets, 4, "the same rule twice: the line that counted");
	s.counters = &rc;
	cr_assert(counts_snapshot_counted(&s), "a counter moved: the list is written again");
	cr_assert_eq(counts_snapshot_index(&s), 0);
	cr_assert_eq(counts_snapshot_index(&s), 0);
	counts_carried_over(&s, "c/20.rules", "allow tcp 10.0.0.2 port 80", &sum);
	cr_assert_eq(sum.packets, 10, "what it carried and its counter, once: %llu",
		     (unsigned long long)sum.packets);
	cr_assert_eq(sum.bytes, 730);
	free(s.slots);
}

/* nothing counted: no table, and every rule starts at zero */
Test(counts, nothing_counted_nothing_carried)
{
	struct rule_list_entry old[] = {
		{ .id = 0, .file = "a/10.rules", .text = "allow udp 10.0.0.1 port 53" },
	};
	struct counts_snapshot s = { .rules = old, .nr = 1 };
	struct pkt_count sum = { 1, 1 };

	cr_assert_eq(counts_snapshot_index(&s), 0);
	counts_carried_over(&s, "a/10.rules", "allow udp 10.0.0.1 port 53", &sum);
	cr_assert_eq(sum.packets, 0);
	cr_assert_eq(sum.bytes, 0);
	free(s.slots);
}
