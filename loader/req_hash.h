/* req_hash.h: one install request as a hash: a reload that would put in place what runs already does nothing. */
#ifndef IRONCLAW_REQ_HASH_H
#define IRONCLAW_REQ_HASH_H

#include <stddef.h>
#include "install_req.h"

/* 128 bits, as 32 hex digits and a NUL */
#define REQ_HASH_LEN 33

/*
 * Everything of rq an install puts in place: every rule with its origin and
 * tool, the dns, name, audit and learning lines, the stages' objects and
 * descriptors, the sources, gateways and settings, and the dispatcher's
 * object (another build: another hash). Not the attach points: a request
 * that names points is never taken for an unchanged one.
 */
void req_hash(const struct install_req *rq, const void *dispatcher_elf, size_t elf_len,
	      char out[REQ_HASH_LEN]);

#endif
