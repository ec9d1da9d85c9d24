/* rule_edits.c: the rule list's live edits since the last switch (rules.edits), and the list they make. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rule_edits.h"

unsigned long long rule_list_token(const char *list)
{
	unsigned long long t = 0;

	if (!list || sscanf(list, "#base %llu", &t) != 1)
		return 0;
	return t;
}

int rule_edits_add(struct rule_edits *e, const char *line)
{
	char **n = realloc(e->added, (e->nr_added + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	e->added = n;
	n[e->nr_added] = strndup(line, strcspn(line, "\n"));
	if (!n[e->nr_added])
		return -ENOMEM;
	e->nr_added++;
	return 0;
}

int rule_edits_revoke(struct rule_edits *e, unsigned long id)
{
	unsigned long *n;

	for (size_t i = 0; i < e->nr_added; i++) {
		if (strtoul(e->added[i], NULL, 10) != id)
			continue;
		free(e->added[i]);
		memmove(&e->added[i], &e->added[i + 1], (e->nr_added - i - 1) * sizeof(char *));
		e->nr_added--;
		return 0;
	}
	n = realloc(e->revoked, (e->nr_revoked + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	e->revoked = n;
	n[e->nr_revoked++] = id;
	return 0;
}

int rule_edits_parse(const char *text, struct rule_edits *e)
{
	const char *l = text;
	int err = 0;

	memset(e, 0, sizeof(*e));
	e->token = rule_list_token(text);
	if (!e->token)
		return -EINVAL;
	for (l = strchr(l, '\n'); !err && l && *++l; l = strchr(l, '\n')) {
		unsigned long id;

		if (sscanf(l, "next %lu", &e->next) == 1)
			continue;
		if (sscanf(l, "revoked %lu", &id) == 1)
			err = rule_edits_revoke(e, id);
		else if (*l >= '0' && *l <= '9')
			err = rule_edits_add(e, l);
		else if (*l != '\n')
			err = -EINVAL;
	}
	if (err)
		rule_edits_free(e);
	return err;
}

int rule_edits_format(const struct rule_edits *e, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "#base %llu\nnext %lu\n", e->token, e->next);
	for (size_t i = 0; i < e->nr_revoked; i++)
		fprintf(f, "revoked %lu\n", e->revoked[i]);
	for (size_t i = 0; i < e->nr_added; i++)
		fprintf(f, "%s\n", e->added[i]);
	return fclose(f) ? -ENOMEM : 0;
}

void rule_edits_free(struct rule_edits *e)
{
	for (size_t i = 0; i < e->nr_added; i++)
		free(e->added[i]);
	free(e->added);
	free(e->revoked);
	memset(e, 0, sizeof(*e));
}

static int id_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

char *rule_list_merge(const char *list, size_t list_len, const char *edits_text, size_t *len)
{
	struct rule_edits e;
	char *out = NULL;
	FILE *f;

	if (!edits_text || rule_edits_parse(edits_text, &e) || e.token != rule_list_token(list)) {
		*len = list_len;
		return strndup(list, list_len);
	}
	qsort(e.revoked, e.nr_revoked, sizeof(*e.revoked), id_cmp);
	f = open_memstream(&out, len);
	for (const char *l = list; f && l < list + list_len;) {
		const char *end = memchr(l, '\n', list + list_len - l);
		size_t n = end ? (size_t)(end - l) : (size_t)(list + list_len - l);
		unsigned long id = strtoul(l, NULL, 10);

		/* a line that is no rule's (the #base header) has no number: kept */
		if (!(*l >= '0' && *l <= '9') ||
		    !bsearch(&id, e.revoked, e.nr_revoked, sizeof(*e.revoked), id_cmp))
			fprintf(f, "%.*s\n", (int)n, l);
		l += n + 1;
	}
	for (size_t i = 0; f && i < e.nr_added; i++)
		fprintf(f, "%s\n", e.added[i]);
	rule_edits_free(&e);
	if (!f || fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}
