/* frame.h: the bench's test frame: Ethernet, IPv4 from BENCH_SRC, UDP or TCP from port 40000. */
#ifndef IRONCLAW_BENCH_FRAME_H
#define IRONCLAW_BENCH_FRAME_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include "bench.h"
#include "ruleset.h"

/* f (BENCH_FRAME_LEN bytes): to daddr:dport (host order), a TCP segment with tcp_flags when tcp */
static inline void bench_frame(unsigned char *f, const unsigned char *dmac,
			       const unsigned char *smac, uint32_t daddr, uint16_t dport, int tcp,
			       unsigned char tcp_flags)
{
	unsigned char *ip = f + 14, *l4 = f + BENCH_L4_OFF;
	uint32_t sum = 0;
	uint16_t tot = tcp ? 40 : BENCH_FRAME_LEN - 14;

	memset(f, 0, BENCH_FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = tot >> 8;
	ip[3] = tot & 0xff;
	ip[8] = 64;
	ip[9] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	*(uint32_t *)(ip + 12) = htonl(BENCH_SRC);
	*(uint32_t *)(ip + 16) = htonl(daddr);
	for (int i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = ~sum >> 8;
	ip[11] = ~sum & 0xff;
	l4[0] = 40000 >> 8;
	l4[1] = 40000 & 0xff;
	l4[2] = dport >> 8;
	l4[3] = dport & 0xff;
	if (tcp) {
		l4[12] = 5 << 4; /* data offset */
		l4[13] = tcp_flags; /* SYN unless --tcp-flags */
		l4[14] = 0xff; /* window */
	} else {
		l4[4] = (tot - 20) >> 8;
		l4[5] = (tot - 20) & 0xff;
	}
}

#endif
