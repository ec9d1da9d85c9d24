/* stage.c: stage objects and the descriptor each one carries. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "policy.h"
#include "rule_table.h"
#include "ironclaw/stage.h"
#include "stage.h"
#include "trusted.h"

#define STAGE_FILE_MAX (16 << 20)

/* the first word of a descriptor written before stage API versions: __u32 abi = 1 */
#define STAGE_DESC_WORD_UNVERSIONED 1

static bool name_ok(const struct stage_desc *desc)
{
	size_t len = strnlen(desc->name, STAGE_NAME_LEN);

	return len > 0 && len < STAGE_NAME_LEN &&
	       strspn(desc->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

unsigned stage_desc_api(const struct stage_desc *desc)
{
	__u32 word;

	memcpy(&word, desc, sizeof(word));
	return word == STAGE_DESC_WORD_UNVERSIONED ? 0 : desc->api;
}

int stage_desc_check(const struct stage_desc *desc, const char *origin, struct diag *d)
{
	unsigned api = stage_desc_api(desc);
	char who[STAGE_NAME_LEN + 16];

	if (api && desc->abi != STAGE_DESC_ABI) {
		diag_error(d, origin, 0, "stage descriptor ABI %u, this loader knows %u", desc->abi,
			   STAGE_DESC_ABI);
		return -EINVAL;
	}
	if (api != IRONCLAW_STAGE_API_VERSION) {
		/* the name is where it always was: an old object is named, if its name is sane */
		if (name_ok(desc))
			snprintf(who, sizeof(who), "stage '%s'", desc->name);
		else
			snprintf(who, sizeof(who), "the stage");
		diag_error(
			d, origin, 0,
			"%s was built against stage API version %u%s; this ironclaw-pipe needs "
			"version %u: rebuild it with include/ironclaw/stage.h of this version (%s)",
			who, api, api ? "" : " (before versions)", IRONCLAW_STAGE_API_VERSION,
			IRONCLAW_STAGE_BUILD);
		return -EINVAL;
	}
	if (!name_ok(desc)) {
		diag_error(d, origin, 0, "stage name must be 1-%d characters of [a-z0-9_]",
			   STAGE_NAME_LEN - 1);
		return -EINVAL;
	}
	if (desc->slot == 0 || desc->slot >= STAGE_MAX_SLOTS) {
		diag_error(d, origin, 0, "stage '%s' asks for slot %u; slots are 1-%d", desc->name,
			   desc->slot, STAGE_MAX_SLOTS - 1);
		return -EINVAL;
	}
	if (desc->map_kind != STAGE_MAP_EXACT && desc->map_kind != STAGE_MAP_PREFIX) {
		diag_error(d, origin, 0, "stage '%s' has unknown rule map kind %u", desc->name,
			   desc->map_kind);
		return -EINVAL;
	}
	if (desc->nr_classes == 0 || desc->nr_classes > STAGE_MAX_CLASSES) {
		diag_error(d, origin, 0, "stage '%s' claims %u classes; 1-%d allowed", desc->name,
			   desc->nr_classes, STAGE_MAX_CLASSES);
		return -EINVAL;
	}
	for (__u32 i = 0; i < desc->nr_classes; i++) {
		__u8 p = desc->classes[i].l4proto;

		if (p != IPPROTO_TCP && p != IPPROTO_UDP) {
			diag_error(d, origin, 0, "stage '%s' claims protocol %u; only tcp and udp",
				   desc->name, p);
			return -EINVAL;
		}
	}
	return 0;
}

/* the map `map` of the object, of the shape of a rule map: its type and key size */
static int check_rule_map(struct bpf_object *obj, const struct stage_desc *desc, const char *map,
			  enum bpf_map_type want, __u32 key, __u32 value, const char *origin,
			  struct diag *d)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);
	bool exact = desc->map_kind == STAGE_MAP_EXACT;

	if (!m) {
		diag_error(d, origin, 0, "stage '%s' has no '%s' map", desc->name, map);
		return -EINVAL;
	}
	if (bpf_map__type(m) != want || bpf_map__key_size(m) != key ||
	    bpf_map__value_size(m) != value) {
		diag_error(d, origin, 0,
			   "stage '%s': map '%s' does not have the shape of a %s rule map",
			   desc->name, map, exact ? "exact" : "prefix");
		return -EINVAL;
	}
	return 0;
}

/* an exact stage: rules (a hash) and rules4 (a table, rule_table.h); a prefix stage: rules (an LPM trie) */
static int check_rules_map(struct bpf_object *obj, const struct stage_desc *desc,
			   const char *origin, struct diag *d)
{
	if (desc->map_kind != STAGE_MAP_EXACT)
		return check_rule_map(obj, desc, STAGE_RULES_MAP, BPF_MAP_TYPE_LPM_TRIE,
				      sizeof(struct policy_lpm_key), sizeof(struct policy_value),
				      origin, d);
	return check_rule_map(obj, desc, STAGE_RULES_MAP, BPF_MAP_TYPE_HASH, sizeof(struct policy_key), sizeof(struct policy_value), origin, d) ?:
		       check_rule_map(obj, desc, STAGE_RULES4_MAP, BPF_MAP_TYPE_ARRAY,
				      sizeof(__u32), sizeof(struct rule_slot4), origin, d);
}

/*
 * Where the descriptor (stage_desc) and the follows-names flag
 * (stage_follows_names, absent: 0) sit in the descriptor's section of sz
 * bytes: by the object's BTF, or a section of the descriptor alone.
 */
static int desc_section_find(struct bpf_object *obj, size_t sz, long *desc_off, long *names_off)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	int id;

	*desc_off = -1;
	*names_off = -1;
	id = btf ? btf__find_by_name_kind(btf, STAGE_DESC_SECTION, BTF_KIND_DATASEC) : -ENOENT;
	if (id < 0) {
		*desc_off = 0;
		return sz == sizeof(struct stage_desc) ? 0 : -ENOENT;
	}
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (__u16 i = 0; i < btf_vlen(sec); i++, vs++) {
		const char *name =
			btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off);

		if (!strcmp(name, "stage_desc") && vs->size == sizeof(struct stage_desc) &&
		    vs->offset + vs->size <= sz)
			*desc_off = vs->offset;
		else if (!strcmp(name, "stage_follows_names") && vs->size == sizeof(__u32) &&
			 vs->offset + vs->size <= sz)
			*names_off = vs->offset;
	}
	return *desc_off < 0 ? -ENOENT : 0;
}

int stage_from_mem(const char *origin, const void *elf, size_t sz, struct stage *st, struct diag *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "stage");
	struct bpf_object *obj;
	struct bpf_map *m;
	const void *val;
	size_t vsz = 0;
	long desc_off = 0, names_off = -1;
	int err = -EINVAL;

	memset(st, 0, sizeof(*st));
	obj = bpf_object__open_mem(elf, sz, &opts);
	if (!obj) {
		char msg[128];

		libbpf_strerror(-errno, msg, sizeof(msg));
		diag_error(d, origin, 0, "not a BPF object libbpf can open: %s", msg);
		return -EINVAL;
	}
	m = bpf_object__find_map_by_name(obj, STAGE_DESC_SECTION);
	val = m ? bpf_map__initial_value(m, &vsz) : NULL;
	if (!val || desc_section_find(obj, vsz, &desc_off, &names_off)) {
		diag_error(d, origin, 0, "no stage descriptor (section %s of %zu bytes)",
			   STAGE_DESC_SECTION, sizeof(st->desc));
		goto out;
	}
	val = (const char *)val + desc_off;
	memcpy(&st->desc, val, sizeof(st->desc));
	if (names_off >= 0)
		st->follows_names = *(const __u32 *)((const char *)bpf_map__initial_value(m, &vsz) +
						     names_off) == 1;
	err = stage_desc_check(&st->desc, origin, d);
	if (err)
		goto out;
	if (!bpf_object__find_program_by_name(obj, STAGE_PROG_TC)) {
		diag_error(d, origin, 0, "stage '%s' has no '%s' program", st->desc.name,
			   STAGE_PROG_TC);
		err = -EINVAL;
		goto out;
	}
	err = check_rules_map(obj, &st->desc, origin, d);
	if (err)
		goto out;
	st->origin = strdup(origin);
	st->elf = (void *)elf;
	st->elf_sz = sz;
	err = st->origin ? 0 : -ENOMEM;
out:
	bpf_object__close(obj);
	return err;
}

int stage_from_file(const char *path, struct stage *st, struct diag *d)
{
	struct stat sb;
	void *buf = NULL;
	ssize_t got = 0;
	int fd, err;

	memset(st, 0, sizeof(*st));
	/* not through a symlink, root's, written by root alone: as a profile's rules files */
	fd = trusted_open(AT_FDCWD, path, path, TRUSTED_STAGE, d);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb)) {
		err = -errno;
		diag_error(d, path, 0, "cannot stat stage object: %s", strerror(errno));
		goto out;
	}
	err = -EFBIG;
	if (sb.st_size <= 0 || sb.st_size > STAGE_FILE_MAX) {
		diag_error(d, path, 0, "stage object size %lld out of range",
			   (long long)sb.st_size);
		goto out;
	}
	err = -ENOMEM;
	buf = malloc(sb.st_size);
	if (!buf)
		goto out;
	while (got < sb.st_size) {
		ssize_t n = read(fd, (char *)buf + got, sb.st_size - got);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			diag_error(d, path, 0, "cannot read stage object: %s",
				   n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += n;
	}
	err = stage_from_mem(path, buf, sb.st_size, st, d);
	if (!err) {
		st->owns_elf = true;
		buf = NULL;
	}
out:
	free(buf);
	close(fd);
	return err;
}

void stage_free(struct stage *st)
{
	if (st->owns_elf)
		free(st->elf);
	free(st->origin);
	memset(st, 0, sizeof(*st));
}
