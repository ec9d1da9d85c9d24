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

bool rule_origin_same_tool(const struct rule_origin *a, const struct rule_origin *b)
{
	return !strcmp(a->tool ? a->tool : "", b->tool ? b->tool : "");
}

void rule_origin_free(struct rule_origin *o)
{
	free(o->text);
	free(o->tool);
	o->text = o->tool = NULL;
}

size_t profile_nr_origins(const struct profile *p)
{
	return p->nr_rules + p->nr_dns_names + p->nr_name_rules;
}

bool profile_names_tools(const struct profile *p)
{
	for (size_t i = 0; i < profile_nr_origins(p); i++)
		if (profile_origin(p, i)->tool)
			return true;
	for (size_t i = 0; i < p->nr_audits; i++)
		if (p->audits[i].tool)
			return true;
	return false;
}

struct rule_origin *profile_origin(const struct profile *p, size_t id)
{
	if (id < p->nr_rules)
		return &p->rules[id].o;
	id -= p->nr_rules;
	if (id < p->nr_dns_names)
		return &p->dns_names[id].o;
	id -= p->nr_dns_names;
	return id < p->nr_name_rules ? &p->name_rules[id].o : NULL;
}
