/* journal.h: an instance's event journal on disk: rotated segments of checksummed, length-prefixed records. */
#ifndef IRONCLAW_JOURNAL_H
#define IRONCLAW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "diag.h"

/*
 * A journal is a directory of segments, "%016llx.jrn" by segment number,
 * each a run of records; files 0640, the directory 0750. One writer (the
 * collector) appends; any number of readers read, and follow, at once.
 *
 * A record: a 32-byte header, then len bytes of payload. The checksum
 * (zlib's crc32) covers the header with crc taken as 0, and the payload, so
 * a record cut short by a crash (a torn tail) or changed on disk is seen
 * and never read as data: the writer cuts a torn tail when it opens the
 * journal, a reader stops at a bad record and goes on with the next segment.
 *
 * Compatibility: version is the header's; a reader skips a record of a kind
 * it does not know (its length says how far), and an event's fields after
 * the fixed part are type-length-value, so a new kind (flow records) or a
 * new field (the query name of a DNS denial) needs no new version.
 * All numbers are in the writer's byte order (the journal stays on its host).
 */
#define JOURNAL_MAGIC 0x524a4349u /* "ICJR" */
#define JOURNAL_VERSION 1
#define JOURNAL_SUBDIR "journal"
#define JOURNAL_DEFAULT_MAX (64ull << 20)
#define JOURNAL_MIN_MAX (64ull << 10)
#define JOURNAL_SEGMENTS 8 /* the cap is shared among this many segments */
#define JOURNAL_PAYLOAD_MAX 4096

struct journal_hdr {
	__u32 magic;
	__u32 len; /* of the payload */
	__u32 crc;
	__u8 version;
	__u8 kind; /* enum journal_kind */
	__u16 flags; /* 0 */
	__u64 seq; /* 1, 2, ... over the journal's life: a gap is records lost to rotation */
	__u64 time_ns; /* CLOCK_REALTIME when it was written */
};

_Static_assert(sizeof(struct journal_hdr) == 32, "journal_hdr layout");

enum journal_kind {
	JREC_EVENT = 1, /* struct deny_event (event.h), then fields */
	JREC_DROPS = 2, /* struct journal_drops: the ring buffer's drop counters now */
	JREC_START = 3, /* struct journal_drops: a collector began; missed_* what it missed */
	JREC_FLOW = 4, /* an allowed flow or query: as JREC_EVENT, its kind byte says which;
			* a reader of before flows skips it (and shows no flow as a denial) */
};

/* the fields after an event's fixed part: {__u16 type, __u16 len, bytes} each */
enum journal_field {
	JF_CGROUP = 1, /* the sending cgroup's path when it was collected */
	JF_TOOL = 2, /* the tool's cgroup path */
	JF_STAGE = 3, /* the name of the stage that decided */
	JF_QNAME = 4, /* the question's name, its wire form as the packet had it (hostile bytes) */
	JF_RULE = 5, /* the allowing rule's "file:line" when it was collected */
	JF_DEST_NAME = 6, /* the host the destination was learned for */
};

struct journal_drops {
	__u64 full, rate; /* the counters (event.h: EVENT_DROP_FULL, EVENT_DROP_RATE) */
	__u64 missed_full, missed_rate; /* JREC_START: dropped since the last record */
	__u32 map_id; /* the ring buffer the counters belong to */
	__u32 pad;
};

struct journal_writer {
	int dirfd, fd;
	__u64 seg; /* the segment written */
	__u64 seg_size, total, max, seg_max;
	__u64 next_seq;
	bool dirty; /* written since the last sync */
};

/* what opening for writing found */
struct journal_recovery {
	__u64 cut_bytes; /* a torn or bad tail of the last segment, cut */
	bool have_drops; /* the last JREC_DROPS or JREC_START record */
	struct journal_drops drops;
};

/* creates dir (0750) when absent; max: the cap in bytes (0: JOURNAL_DEFAULT_MAX) */
int journal_open_write(struct journal_writer *w, const char *dir, __u64 max,
		       struct journal_recovery *rec, struct diag *d);
/* appends one record, rotating and removing the oldest segments to stay under the cap */
int journal_append(struct journal_writer *w, __u8 kind, __u64 time_ns, const void *payload,
		   size_t len);
/* fdatasync when written since the last */
int journal_sync(struct journal_writer *w);
void journal_close_write(struct journal_writer *w);

/* an event's payload: the fixed part, then fields; 0 or -E2BIG */
struct journal_buf {
	unsigned char data[JOURNAL_PAYLOAD_MAX];
	size_t len;
};
int journal_buf_put(struct journal_buf *b, const void *data, size_t len);
int journal_buf_field(struct journal_buf *b, __u16 type, const void *data, size_t len);
/* the field of that type in payload[off..len): its bytes and length, or NULL */
const void *journal_field(const void *payload, size_t len, size_t off, __u16 type,
			  size_t *field_len);

struct journal_reader {
	int dirfd, fd;
	__u64 seg;
	__u64 off;
	__u64 last_seq;
	__u64 gap; /* records lost to rotation before the last one read */
	__u64 bad_seg, bad_off; /* the bad record said last */
	unsigned char payload[JOURNAL_PAYLOAD_MAX];
};

struct journal_rec {
	struct journal_hdr h;
	const unsigned char *payload; /* in the reader: valid until the next read */
};

/* -ENOENT when there is no journal in dir */
int journal_open_read(struct journal_reader *r, const char *dir);
/*
 * The next good record: 1, 0 when there is none yet (follow: try again), or
 * -errno. A bad record (checksum, magic, version) is said in d, once, and
 * the rest of its segment skipped.
 */
int journal_read(struct journal_reader *r, struct journal_rec *rec, struct diag *d);
void journal_close_read(struct journal_reader *r);

/* bytes in the journal's segments, and how many there are; for tests and status */
int journal_usage(const char *dir, __u64 *bytes, __u64 *segments);

#endif
