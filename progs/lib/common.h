/* common.h: includes and small definitions every BPF file of the pipeline needs. */
#ifndef IRONCLAW_PROGS_COMMON_H
#define IRONCLAW_PROGS_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "reason.h"
#include "pkt_meta.h"
#include "policy.h"
#include "stage_desc.h"
#include "event.h"
#include "dry_run.h"

/* one load of a context field, at its own offset (the verifier refuses ctx + var) */
#define CTX_READ(x) (*(volatile typeof(x) *)&(x))

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#endif
