/* meta_skb.h: moving struct pkt_meta in and out of skb->cb[] (tc and cgroup_skb). */
#ifndef IRONCLAW_PROGS_META_SKB_H
#define IRONCLAW_PROGS_META_SKB_H

#include "common.h"

union pkt_meta_words {
	struct pkt_meta m;
	__u32 w[5];
};

static __always_inline void meta_store_skb(struct __sk_buff *skb, const struct pkt_meta *m)
{
	union pkt_meta_words u = { .m = *m };

	skb->cb[0] = u.w[0];
	skb->cb[1] = u.w[1];
	skb->cb[2] = u.w[2];
	skb->cb[3] = u.w[3];
	skb->cb[4] = u.w[4];
}

static __always_inline void meta_load_skb(struct __sk_buff *skb, struct pkt_meta *m)
{
	union pkt_meta_words u;

	u.w[0] = skb->cb[0];
	u.w[1] = skb->cb[1];
	u.w[2] = skb->cb[2];
	u.w[3] = skb->cb[3];
	u.w[4] = skb->cb[4];
	*m = u.m;
}

/*
 * XDP has no control block: the metadata goes in the frame's metadata area,
 * in front of the packet, which belongs to the frame as cb[] to an skb: its
 * last bytes, just before the packet, grown only when it is shorter (a test
 * run that repeats a frame keeps the area of the run before).
 */
#define XDP_META_MAX 32 /* what bpf_xdp_adjust_meta() allows */

static __always_inline void *xdp_meta_slot(struct xdp_md *ctx, __u32 size)
{
	void *meta = (void *)(long)ctx->data_meta, *data = (void *)(long)ctx->data;
	__u32 off;

	if (meta + size > data) {
		if (bpf_xdp_adjust_meta(ctx, -(int)size))
			return NULL;
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
	}
	off = (__u32)(data - meta) - size;
	if (off > XDP_META_MAX - size)
		return NULL;
	meta += off;
	if (meta + size > data)
		return NULL;
	return meta;
}

/* the metadata in front of the frame, its mark 0 (struct xdp_pass) */
static __always_inline int meta_store_xdp(struct xdp_md *ctx, const struct pkt_meta *m)
{
	struct xdp_pass *slot = xdp_meta_slot(ctx, sizeof(*slot));

	if (!slot)
		return -1;
	slot->mark = 0;
	__builtin_memcpy(&slot->m, m, sizeof(*m));
	return 0;
}

/*
 * A stage's frame at XDP allowed for good: the generation's mark in front of
 * its metadata, when that is the xdp_pass the dispatcher made (meta_store_xdp)
 * and nothing more: tc ingress takes that alone (meta_xdp_passed)
 */
static __always_inline void meta_mark_xdp(struct xdp_md *ctx, __u64 mark)
{
	void *meta = (void *)(long)ctx->data_meta, *data = (void *)(long)ctx->data;

	if (meta + sizeof(struct xdp_pass) > data || data - meta != sizeof(struct xdp_pass))
		return;
	__builtin_memcpy(meta, &mark, sizeof(mark));
}

static __always_inline int meta_load_xdp(struct xdp_md *ctx, struct pkt_meta *m)
{
	void *meta = (void *)(long)ctx->data_meta, *data = (void *)(long)ctx->data;
	__u32 off;

	if (meta + sizeof(*m) > data)
		return -1;
	off = (__u32)(data - meta) - sizeof(*m);
	if (off > XDP_META_MAX - sizeof(*m))
		return -1;
	meta += off;
	if (meta + sizeof(*m) > data)
		return -1;
	__builtin_memcpy(m, meta, sizeof(*m));
	return 0;
}

#endif
