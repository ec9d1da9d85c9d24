/* records.h: what a test instance's ring buffer holds, taken out of it. */
#ifndef IRONCLAW_TEST_RECORDS_H
#define IRONCLAW_TEST_RECORDS_H

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "event.h"
#include "pipeline_run.h"
#include "pins.h"

/* every record the instance's ring buffer holds now, to fn, taken out of it */
static inline void events_consume(ring_buffer_sample_fn fn, void *ctx)
{
	int fd = pins_get(inst, "events");
	struct ring_buffer *rb;

	cr_assert_geq(fd, 0, "the events pin");
	rb = ring_buffer__new(fd, fn, ctx, NULL);
	cr_assert_not_null(rb);
	cr_assert_geq(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
	close(fd);
}

#define MAX_RECORDS 16

/* the first MAX_RECORDS records, each with its size, zero past it */
struct records {
	size_t n;
	size_t size[MAX_RECORDS];
	struct event_named r[MAX_RECORDS];
};

static inline int records_keep(void *ctx, void *data, size_t size)
{
	struct records *rs = ctx;

	if (rs->n < MAX_RECORDS) {
		rs->size[rs->n] = size;
		memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
		memcpy(&rs->r[rs->n], data, size < sizeof(rs->r[0]) ? size : sizeof(rs->r[0]));
		rs->n++;
	}
	return 0;
}

/* the records the ring buffer holds now, taken out of it */
static inline void drain(struct records *rs)
{
	memset(rs, 0, sizeof(*rs));
	events_consume(records_keep, rs);
}

#endif
