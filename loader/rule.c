/* rule.c: the lines a profile holds, of every kind, and the profile that collects them. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "rule.h"

const char *l4proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

int tool_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 128 && strcmp(name, ".") && strcmp(name, "..") &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@") ==
		       n;
}

const char *profile_intern_file(struct profile *p, const char *name)
{
	char **files;

	for (size_t i = 0; i < p->nr_files; i++)
		if (!strcmp(p->files[i], name))
			return p->files[i];
	files = realloc(p->files, (p->nr_files + 1) * sizeof(*files));
	if (!files)
		return NULL;
	p->files = files;
	files[p->nr_files] = strdup(name);
	return files[p->nr_files] ? files[p->nr_files++] : NULL;
}
