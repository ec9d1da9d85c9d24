/* ruleset.h: the bench's rule sets, one function each, so profiles, if-chains, nftables and
 * iptables rules, and the packets sent all name the same destinations. Host byte order. */
#ifndef IRONCLAW_BENCH_RULESET_H
#define IRONCLAW_BENCH_RULESET_H

#include <stdint.h>
#include <stdlib.h>

/* exact: rule i is udp to 10.64.0.0 + i (up to 4,194,304 rules), port 1024 + i % 64 */
#define EXACT_BASE 0x0a400000u
#define EXACT_MAX (1u << 22)
/* misses: 10.128.0.0/10, which no exact rule names */
#define EXACT_MISS_BASE 0x0a800000u

/* cidr: rule i is tcp port 443 to 16.0.0.0 + i * 256, prefix /24 to /32 (i % 9) */
#define CIDR_BASE 0x10000000u
#define CIDR_MAX (1u << 20)
/* misses: 100.64.0.0/10, outside 16.0.0.0/4 */
#define CIDR_MISS_BASE 0x64400000u

/* the sandbox's address: every frame's source */
#define BENCH_SRC 0x0a2a0002u /* 10.42.0.2 */

static inline uint32_t exact_addr(uint32_t i)
{
	return EXACT_BASE + i;
}

static inline uint16_t exact_port(uint32_t i)
{
	return 1024 + i % 64;
}

static inline uint32_t cidr_addr(uint32_t i)
{
	return CIDR_BASE + (i << 8);
}

static inline int cidr_len(uint32_t i)
{
	return 24 + i % 9;
}

/* a small deterministic generator (xorshift32): the same mixes in every run */
static inline uint32_t bench_rand(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* a random cycle through 0..n-1, next[i] (malloc'd; NULL: no memory): no prefetcher can guess the next */
static inline unsigned long *random_cycle(unsigned long n, uint32_t seed)
{
	unsigned long *order = malloc(n * sizeof(*order)), *next = malloc(n * sizeof(*next));

	if (!order || !next) {
		free(order);
		free(next);
		return NULL;
	}
	for (unsigned long i = 0; i < n; i++)
		order[i] = i;
	for (unsigned long i = n - 1; i > 0; i--) {
		unsigned long j = (((unsigned long)bench_rand(&seed) << 32) | bench_rand(&seed)) %
				  (i + 1),
			      x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned long i = 0; i < n; i++)
		next[order[i]] = order[(i + 1) % n];
	free(order);
	return next;
}

#endif
