/* test_journal.c: the event journal's format: records read back, a torn tail cut, a bad checksum stopped at, rotation under the cap. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "event.h"
#include "history.h"
#include "journal.h"
#include "tmp_tree.h"

static char dir[256];

static void setup(void)
{
	tmp_tree_make(dir, sizeof(dir), "journal");
	strcat(dir, "/journal");
}

static void teardown(void)
{
	char *slash = strrchr(dir, '/');

	*slash = '\0';
	tmp_tree_remove(dir);
}

TestSuite(journal, .init = setup, .fini = teardown);

/* an event record as the collector writes it: pid n, and a command name of bytes the sandbox chose */
static void put_event(struct journal_writer *w, __u32 n)
{
	struct deny_event e = { .pid = n, .reason = 5, .family = 2, .l4proto = 6 };
	struct journal_buf b = {};

	memcpy(e.comm, "bad\xe9\x01name", 9);
	cr_assert_eq(journal_buf_put(&b, &e, sizeof(e)), 0);
	cr_assert_eq(journal_buf_field(&b, JF_CGROUP, "/sbx/other", 10), 0);
	cr_assert_eq(journal_buf_field(&b, JF_TOOL, "/sbx/other", 10), 0);
	cr_assert_eq(journal_buf_field(&b, JF_STAGE, "internal", 8), 0);
	cr_assert_eq(journal_append(w, JREC_EVENT, 1000000000ull * n, b.data, b.len), 0);
}

static struct diag d;

/* the pids of the events read, in order; *nr their number */
static void read_all(__u32 *pids, int max, int *nr)
{
	struct journal_reader r;
	struct journal_rec rec;
	struct history_strings s;
	struct event_view v;

	*nr = 0;
	cr_assert_eq(journal_open_read(&r, dir), 0);
	while (journal_read(&r, &rec, &d) == 1) {
		if (rec.h.kind != JREC_EVENT)
			continue;
		cr_assert_eq(history_event_view(&rec, &v, &s), 0);
		cr_assert_str_eq(v.tool, "/sbx/other");
		cr_assert_str_eq(v.stage, "internal");
		cr_assert_eq(memcmp(v.e.comm, "bad\xe9\x01name", 9), 0);
		cr_assert_lt(*nr, max);
		pids[(*nr)++] = v.e.pid;
	}
	journal_close_read(&r);
}

static off_t seg_size(__u64 seg)
{
	char path[300];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%016llx.jrn", dir, (unsigned long long)seg);
	return stat(path, &sb) ? -1 : sb.st_size;
}

Test(journal, records_read_back_and_files_0640)
{
	struct journal_writer w;
	struct journal_recovery rec;
	__u32 pids[16];
	char path[300];
	struct stat sb;
	int nr;

	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	for (__u32 i = 1; i <= 5; i++)
		put_event(&w, i);
	journal_close_write(&w);
	read_all(pids, 16, &nr);
	cr_assert_eq(nr, 5);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pids[i], (__u32)i + 1);
	snprintf(path, sizeof(path), "%s/%016llx.jrn", dir, 1ull);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0640);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0750);
}

/* a crash in the middle of a record: readers stop before it, the next writer cuts it */
Test(journal, torn_tail_cut)
{
	struct journal_writer w;
	struct journal_recovery rec;
	__u32 pids[16];
	off_t full;
	int nr;

	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	for (__u32 i = 1; i <= 3; i++)
		put_event(&w, i);
	journal_close_write(&w);
	full = seg_size(1);
	cr_assert_eq(
		truncate(strcat(strcpy((char[300]){ 0 }, dir), "/0000000000000001.jrn"), full - 7),
		0);
	read_all(pids, 16, &nr);
	cr_assert_eq(nr, 2, "read %d events of a journal whose third record is torn", nr);
	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	cr_assert_gt(rec.cut_bytes, 0);
	cr_assert_eq(seg_size(1), full - 7 - (off_t)rec.cut_bytes);
	put_event(&w, 4);
	journal_close_write(&w);
	read_all(pids, 16, &nr);
	cr_assert_eq(nr, 3);
	cr_assert_eq(pids[2], 4);
}

/* a byte changed on disk: the record is refused (said), never read as an event */
Test(journal, checksum_mismatch_stops_the_segment)
{
	struct journal_writer w;
	struct journal_recovery rec;
	__u32 pids[16];
	off_t one;
	int nr, fd;
	char path[300], c;

	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	put_event(&w, 1);
	one = seg_size(1);
	put_event(&w, 2);
	put_event(&w, 3);
	journal_close_write(&w);
	snprintf(path, sizeof(path), "%s/%016llx.jrn", dir, 1ull);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	/* the pid of the second event: inside its payload */
	cr_assert_eq(pread(fd, &c, 1, one + sizeof(struct journal_hdr) + 24), 1);
	c ^= 0x40;
	cr_assert_eq(pwrite(fd, &c, 1, one + sizeof(struct journal_hdr) + 24), 1);
	close(fd);
	diag_free(&d);
	read_all(pids, 16, &nr);
	cr_assert_eq(nr, 1);
	cr_assert_eq(pids[0], 1);
	cr_assert_eq(d.warnings, 1, "the bad record was not said");
	diag_free(&d);
}

/* many records into a small cap: segments rotate, the oldest go, the total stays under it */
Test(journal, rotation_under_the_cap)
{
	struct journal_writer w;
	struct journal_recovery rec;
	__u64 bytes, segs;
	static __u32 pids[4096];
	int nr;

	cr_assert_eq(journal_open_write(&w, dir, JOURNAL_MIN_MAX, &rec, &d), 0);
	for (__u32 i = 1; i <= 3000; i++) {
		put_event(&w, i);
		cr_assert_eq(journal_usage(dir, &bytes, &segs), 0);
		cr_assert_leq(bytes, JOURNAL_MIN_MAX, "%llu bytes after %u records",
			      (unsigned long long)bytes, i);
	}
	journal_close_write(&w);
	cr_assert_leq(segs, JOURNAL_SEGMENTS);
	cr_assert_eq(seg_size(1), -1, "the oldest segment is still there");
	read_all(pids, 4096, &nr);
	cr_assert_gt(nr, 100);
	cr_assert_lt(nr, 3000);
	/* the newest kept, in order, none missing in between */
	cr_assert_eq(pids[nr - 1], 3000);
	for (int i = 1; i < nr; i++)
		cr_assert_eq(pids[i], pids[i - 1] + 1);
	/* a writer opened again goes on with the sequence, and the cap */
	cr_assert_eq(journal_open_write(&w, dir, JOURNAL_MIN_MAX, &rec, &d), 0);
	cr_assert_eq(w.next_seq, 3001);
	journal_close_write(&w);
}

/* the last drop counters are found again by the next writer: what it missed is counted from them */
Test(journal, drops_record_recovered)
{
	struct journal_writer w;
	struct journal_recovery rec;
	struct journal_drops dr = { .full = 7, .rate = 9, .map_id = 42 };

	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	cr_assert(!rec.have_drops);
	cr_assert_eq(journal_append(&w, JREC_DROPS, 1, &dr, sizeof(dr)), 0);
	put_event(&w, 1);
	journal_close_write(&w);
	cr_assert_eq(journal_open_write(&w, dir, 0, &rec, &d), 0);
	cr_assert(rec.have_drops);
	cr_assert_eq(rec.drops.full, 7);
	cr_assert_eq(rec.drops.rate, 9);
	cr_assert_eq(rec.drops.map_id, 42);
	journal_close_write(&w);
}

/*
 * Flow and query records: kind 4, which a reader of before flows skips; their
 * fields (the rule's file:line, the question's name as the packet had it,
 * the learned name) read back; a kind byte that disagrees with the record's
 * kind is never taken for the other
 */
Test(journal, flow_records_and_names)
{
	static const __u8 wire[] = "\3a\x01z\7example";
	struct journal_writer w;
	struct journal_recovery rc;
	struct journal_reader r;
	struct journal_rec rec;
	struct history_strings s;
	struct event_view v;
	struct journal_buf b = {};
	struct deny_event e = { .kind = EVENT_QUERY, .family = 2, .l4proto = 17 };
	int n = 0;

	cr_assert_eq(journal_open_write(&w, dir, 0, &rc, &d), 0);
	cr_assert_eq(journal_buf_put(&b, &e, sizeof(e)), 0);
	cr_assert_eq(journal_buf_field(&b, JF_CGROUP, "/sbx/other", 10), 0);
	cr_assert_eq(journal_buf_field(&b, JF_STAGE, "dns", 3), 0);
	cr_assert_eq(journal_buf_field(&b, JF_QNAME, wire, sizeof(wire)), 0);
	cr_assert_eq(journal_buf_field(&b, JF_RULE, "/p/10-dns.rules:3", 17), 0);
	cr_assert_eq(journal_buf_field(&b, JF_DEST_NAME, "resolver.example", 16), 0);
	cr_assert_eq(journal_append(&w, JREC_FLOW, 1, b.data, b.len), 0);
	/* the same bytes as a denial's record: a denial, whatever its kind byte says */
	cr_assert_eq(journal_append(&w, JREC_EVENT, 2, b.data, b.len), 0);
	/* a flow record whose kind byte says denial: not read as either */
	e.kind = EVENT_DENY;
	memcpy(b.data, &e, sizeof(e));
	cr_assert_eq(journal_append(&w, JREC_FLOW, 3, b.data, b.len), 0);
	journal_close_write(&w);
	cr_assert_eq(journal_open_read(&r, dir), 0);
	while (journal_read(&r, &rec, &d) == 1) {
		int err = history_event_view(&rec, &v, &s);

		n++;
		if (rec.h.time_ns == 3) {
			cr_assert_eq(err, -EINVAL);
			continue;
		}
		cr_assert_eq(err, 0);
		cr_assert_eq(v.e.kind, rec.h.time_ns == 1 ? EVENT_QUERY : EVENT_DENY);
		cr_assert_str_eq(v.rule, "/p/10-dns.rules:3");
		cr_assert_str_eq(v.dest_name, "resolver.example");
		cr_assert_eq(v.qname_len, sizeof(wire));
		cr_assert_eq(memcmp(v.qname, wire, sizeof(wire)), 0);
	}
	journal_close_read(&r);
	cr_assert_eq(n, 3);
}
