/* bench.h: what the bench's BPF programs and its harness share: the destination table, offsets. */
#ifndef IRONCLAW_BENCH_H
#define IRONCLAW_BENCH_H

#include <linux/types.h>

/* random destinations the wrapper and the generator pick from (a power of two) */
#define BENCH_TABLE_SIZE 65536

/* Ethernet + IPv4 without options: where the destination address and the L4 header are */
#define BENCH_DADDR_OFF (14 + 16)
#define BENCH_L4_OFF (14 + 20)

/* the bench's frames: 64 bytes on the wire without the FCS, as a minimum Ethernet frame */
#define BENCH_FRAME_LEN 64

struct bench_dst {
	__be32 daddr;
	__be16 dport;
	__u16 pad;
};

#endif
