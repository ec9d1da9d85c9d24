/* stage_builtin.c: the stages linked into the binary (dns, https, internal). */
#include <errno.h>
#include "stage_builtin.h"
#include "policy.h" /* struct stage_baked, in the skeletons' read-only data */
#include "rule_table.h" /* struct rule_table_cfg, the same */
#include "stage_dns.skel.h"
#include "stage_https.skel.h"
#include "stage_internal.skel.h"

int stage_builtin(struct stage *out, size_t max, struct diag *d)
{
	struct {
		const char *origin;
		const void *elf;
		size_t sz;
	} b[NR_BUILTIN_STAGES];
	int err;

	if (max < NR_BUILTIN_STAGES)
		return -ENOSPC;
	b[0].origin = "built-in stage dns";
	b[0].elf = stage_dns__elf_bytes(&b[0].sz);
	b[1].origin = "built-in stage https";
	b[1].elf = stage_https__elf_bytes(&b[1].sz);
	b[2].origin = "built-in stage internal";
	b[2].elf = stage_internal__elf_bytes(&b[2].sz);
	for (int i = 0; i < NR_BUILTIN_STAGES; i++) {
		err = stage_from_mem(b[i].origin, b[i].elf, b[i].sz, &out[i], d);
		if (err) {
			while (i--)
				stage_free(&out[i]);
			return err;
		}
	}
	return NR_BUILTIN_STAGES;
}
