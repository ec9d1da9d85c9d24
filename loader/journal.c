/* journal.c: an instance's event journal on disk: rotated segments of checksummed, length-prefixed records. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "journal.h"

#define SEG_SUFFIX ".jrn"

static __u32 rec_crc(const struct journal_hdr *h, const void *payload)
{
	struct journal_hdr c = *h;
	uLong crc = crc32(0L, Z_NULL, 0);

	c.crc = 0;
	crc = crc32(crc, (const Bytef *)&c, sizeof(c));
	return crc32(crc, payload, h->len);
}

static void seg_name(char *buf, size_t len, __u64 seg)
{
	snprintf(buf, len, "%016llx" SEG_SUFFIX, (unsigned long long)seg);
}

static bool seg_parse(const char *name, __u64 *seg)
{
	char *end;

	if (strlen(name) != 16 + strlen(SEG_SUFFIX) || strcmp(name + 16, SEG_SUFFIX) ||
	    strspn(name, "0123456789abcdef") != 16)
		return false;
	*seg = strtoull(name, &end, 16);
	return true;
}

/* the lowest and highest segment numbers (0 and 0: none), their count and bytes */
static int seg_scan(int dirfd, __u64 *lo, __u64 *hi, __u64 *count, __u64 *bytes)
{
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *dd;

	*lo = *hi = 0;
	if (count)
		*count = 0;
	if (bytes)
		*bytes = 0;
	if (fd < 0)
		return -errno;
	dd = fdopendir(fd);
	if (!dd) {
		close(fd);
		return -errno;
	}
	rewinddir(dd);
	while ((de = readdir(dd))) {
		struct stat sb;
		__u64 s;

		if (!seg_parse(de->d_name, &s))
			continue;
		if (!*lo || s < *lo)
			*lo = s;
		if (s > *hi)
			*hi = s;
		if (count)
			(*count)++;
		if (bytes && !fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			*bytes += sb.st_size;
	}
	closedir(dd);
	return 0;
}

/* the lowest segment above seg, 0 when none */
static __u64 seg_after(int dirfd, __u64 seg)
{
	int fd = dup(dirfd);
	struct dirent *de;
	__u64 best = 0, s;
	DIR *dd;

	if (fd < 0)
		return 0;
	dd = fdopendir(fd);
	if (!dd) {
		close(fd);
		return 0;
	}
	rewinddir(dd);
	while ((de = readdir(dd)))
		if (seg_parse(de->d_name, &s) && s > seg && (!best || s < best))
			best = s;
	closedir(dd);
	return best;
}

static int seg_open(int dirfd, __u64 seg, int flags)
{
	char name[32];
	int fd;

	seg_name(name, sizeof(name), seg);
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if ((flags & O_CREAT) && fchmod(fd, 0640)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Reads the record at off of fd: 1 good, 0 nothing there (end), -EAGAIN cut
 * short (torn or still being written), -EBADMSG bad.
 */
static int rec_at(int fd, __u64 off, struct journal_hdr *h, unsigned char *payload)
{
	ssize_t n = pread(fd, h, sizeof(*h), off);

	if (n == 0)
		return 0;
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(*h))
		return -EAGAIN;
	if (h->magic != JOURNAL_MAGIC || h->version != JOURNAL_VERSION ||
	    h->len > JOURNAL_PAYLOAD_MAX)
		return -EBADMSG;
	n = pread(fd, payload, h->len, off + sizeof(*h));
	if (n < 0)
		return -errno;
	if ((size_t)n < h->len)
		return -EAGAIN;
	return rec_crc(h, payload) == h->crc ? 1 : -EBADMSG;
}

/* the good records of a segment: their end, the last seq, the last drops record */
static int seg_recover(int fd, __u64 *end, __u64 *last_seq, struct journal_recovery *rec)
{
	unsigned char *payload = malloc(JOURNAL_PAYLOAD_MAX);
	struct journal_hdr h;
	int ret;

	if (!payload)
		return -ENOMEM;
	*end = 0;
	while ((ret = rec_at(fd, *end, &h, payload)) == 1) {
		*end += sizeof(h) + h.len;
		*last_seq = h.seq;
		if ((h.kind == JREC_DROPS || h.kind == JREC_START) &&
		    h.len >= sizeof(struct journal_drops)) {
			memcpy(&rec->drops, payload, sizeof(rec->drops));
			rec->have_drops = true;
		}
	}
	free(payload);
	return ret == 0 || ret == -EAGAIN || ret == -EBADMSG ? 0 : ret;
}

int journal_open_write(struct journal_writer *w, const char *dir, __u64 max,
		       struct journal_recovery *rec, struct diag *d)
{
	__u64 lo, hi, count, end = 0, last_seq = 0;
	struct stat sb;
	int err;

	memset(w, 0, sizeof(*w));
	memset(rec, 0, sizeof(*rec));
	w->fd = w->dirfd = -1;
	w->max = max ? max : JOURNAL_DEFAULT_MAX;
	if (w->max < JOURNAL_MIN_MAX)
		w->max = JOURNAL_MIN_MAX;
	w->seg_max = w->max / JOURNAL_SEGMENTS;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot create the journal %s: %s", dir, strerror(-err));
		return err;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w->dirfd < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot open the journal %s: %s", dir, strerror(-err));
		return err;
	}
	err = seg_scan(w->dirfd, &lo, &hi, &count, &w->total);
	if (err)
		goto fail;
	/* the last record of the drops kind may be in an older segment: look back */
	for (__u64 s = hi; s && s >= lo && !rec->have_drops; s--) {
		__u64 e = 0, q = 0;
		int fd = seg_open(w->dirfd, s, O_RDONLY);

		if (fd < 0)
			continue;
		err = seg_recover(fd, &e, &q, rec);
		close(fd);
		if (err)
			goto fail;
		if (s == hi) {
			end = e;
			last_seq = q;
		}
		if (!last_seq && q)
			last_seq = q;
	}
	w->seg = hi ? hi : 1;
	w->fd = seg_open(w->dirfd, w->seg, O_RDWR | O_CREAT | O_APPEND);
	if (w->fd < 0) {
		err = w->fd;
		goto fail;
	}
	if (fstat(w->fd, &sb)) {
		err = -errno;
		goto fail;
	}
	/* a record cut short by a crash, or bytes that are no record: cut */
	if ((__u64)sb.st_size > end) {
		rec->cut_bytes = sb.st_size - end;
		if (ftruncate(w->fd, end) || fsync(w->fd)) {
			err = -errno;
			goto fail;
		}
		w->total -= rec->cut_bytes;
	}
	w->seg_size = end;
	w->next_seq = last_seq + 1;
	return 0;
fail:
	diag_error(d, NULL, 0, "cannot open the journal %s for writing: %s", dir, strerror(-err));
	journal_close_write(w);
	return err;
}

/* the oldest segments go until what is left and len more bytes fit under the cap */
static void trim(struct journal_writer *w, size_t len)
{
	while (w->total + len > w->max) {
		__u64 lo, hi;
		char name[32];
		struct stat sb;

		if (seg_scan(w->dirfd, &lo, &hi, NULL, NULL) || !lo || lo >= w->seg)
			return;
		seg_name(name, sizeof(name), lo);
		if (fstatat(w->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) ||
		    unlinkat(w->dirfd, name, 0))
			return;
		w->total -= (__u64)sb.st_size < w->total ? (__u64)sb.st_size : w->total;
	}
}

int journal_append(struct journal_writer *w, __u8 kind, __u64 time_ns, const void *payload,
		   size_t len)
{
	unsigned char buf[sizeof(struct journal_hdr) + JOURNAL_PAYLOAD_MAX];
	struct journal_hdr h = {
		.magic = JOURNAL_MAGIC,
		.len = len,
		.version = JOURNAL_VERSION,
		.kind = kind,
		.seq = w->next_seq,
		.time_ns = time_ns,
	};
	size_t total = sizeof(h) + len;
	ssize_t n;

	if (len > JOURNAL_PAYLOAD_MAX)
		return -E2BIG;
	if (w->seg_size && w->seg_size + total > w->seg_max) {
		int fd = seg_open(w->dirfd, w->seg + 1, O_RDWR | O_CREAT | O_APPEND | O_EXCL);

		if (fd < 0)
			return fd;
		if (w->dirty)
			fdatasync(w->fd);
		close(w->fd);
		w->fd = fd;
		w->seg++;
		w->seg_size = 0;
	}
	trim(w, total);
	h.crc = rec_crc(&h, payload);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	/* one write: a reader sees the whole record, or a short one it waits for */
	n = write(w->fd, buf, total);
	if (n < 0)
		return -errno;
	if ((size_t)n != total) {
		/* the disk is full: take the piece back, so no torn record stays */
		if (ftruncate(w->fd, w->seg_size))
			return -EIO;
		return -ENOSPC;
	}
	w->seg_size += total;
	w->total += total;
	w->next_seq++;
	w->dirty = true;
	return 0;
}

int journal_sync(struct journal_writer *w)
{
	if (!w->dirty || w->fd < 0)
		return 0;
	w->dirty = false;
	return fdatasync(w->fd) ? -errno : 0;
}

void journal_close_write(struct journal_writer *w)
{
	journal_sync(w);
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->fd = w->dirfd = -1;
}

int journal_buf_put(struct journal_buf *b, const void *data, size_t len)
{
	if (b->len + len > sizeof(b->data))
		return -E2BIG;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int journal_buf_field(struct journal_buf *b, __u16 type, const void *data, size_t len)
{
	__u16 tl[2] = { type, len };

	if (len > 0xffff || b->len + sizeof(tl) + len > sizeof(b->data))
		return -E2BIG;
	journal_buf_put(b, tl, sizeof(tl));
	return journal_buf_put(b, data, len);
}

const void *journal_field(const void *payload, size_t len, size_t off, __u16 type,
			  size_t *field_len)
{
	const unsigned char *p = payload;

	while (off + 4 <= len) {
		__u16 tl[2];

		memcpy(tl, p + off, sizeof(tl));
		if (off + 4 + tl[1] > len)
			return NULL;
		if (tl[0] == type) {
			*field_len = tl[1];
			return p + off + 4;
		}
		off += 4 + tl[1];
	}
	return NULL;
}

int journal_open_read(struct journal_reader *r, const char *dir)
{
	__u64 lo, hi;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->dirfd < 0)
		return -errno;
	err = seg_scan(r->dirfd, &lo, &hi, NULL, NULL);
	if (!err && !lo)
		err = -ENOENT;
	if (err) {
		journal_close_read(r);
		return err;
	}
	r->seg = lo;
	return 0;
}

/* on to the next segment (or the oldest left, when this one was rotated away): 0 when none */
static int next_segment(struct journal_reader *r)
{
	__u64 s = seg_after(r->dirfd, r->seg);

	if (!s)
		return 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->seg = s;
	r->off = 0;
	return 1;
}

int journal_read(struct journal_reader *r, struct journal_rec *rec, struct diag *d)
{
	int ret;

	for (;;) {
		if (r->fd < 0) {
			r->fd = seg_open(r->dirfd, r->seg, O_RDONLY);
			if (r->fd == -ENOENT) {
				/* rotated away under us: the next one there is */
				if (!next_segment(r))
					return 0;
				continue;
			}
			if (r->fd < 0)
				return r->fd;
		}
		ret = rec_at(r->fd, r->off, &rec->h, r->payload);
		/* cut short, and a newer segment began: whole now, or torn for good */
		if (ret == -EAGAIN && seg_after(r->dirfd, r->seg))
			ret = rec_at(r->fd, r->off, &rec->h, r->payload);
		if (ret == 1) {
			r->off += sizeof(rec->h) + rec->h.len;
			if (r->last_seq && rec->h.seq > r->last_seq + 1)
				r->gap += rec->h.seq - r->last_seq - 1;
			r->last_seq = rec->h.seq;
			rec->payload = r->payload;
			return 1;
		}
		if (ret == -EBADMSG && (r->bad_seg != r->seg || r->bad_off != r->off)) {
			char name[32];

			r->bad_seg = r->seg;
			r->bad_off = r->off;
			seg_name(name, sizeof(name), r->seg);
			diag_warn(d, NULL, 0,
				  "journal segment %s: a bad record at byte %llu (checksum, "
				  "magic or version): the rest of the segment is skipped",
				  name, (unsigned long long)r->off);
		} else if (ret < 0 && ret != -EAGAIN && ret != -EBADMSG) {
			return ret;
		}
		/* the end of this segment, for now or for good: is there a newer one? */
		if (!next_segment(r))
			return 0;
	}
}

void journal_close_read(struct journal_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->fd = r->dirfd = -1;
}

int journal_usage(const char *dir, __u64 *bytes, __u64 *segments)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), err;
	__u64 lo, hi;

	if (fd < 0)
		return -errno;
	err = seg_scan(fd, &lo, &hi, segments, bytes);
	close(fd);
	return err;
}
