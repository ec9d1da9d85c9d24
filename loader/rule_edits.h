/* rule_edits.h: the rule list's live edits since the last switch (rules.edits), and the list they make. */
#ifndef IRONCLAW_RULE_EDITS_H
#define IRONCLAW_RULE_EDITS_H

#include <stddef.h>

/*
 * A switch writes the rule list (counts.h) headed "#base TOKEN". An edit in
 * place leaves it and writes STATE_RULE_EDITS whole instead, headed by the
 * same token (an edits file of another token is stale: ignored):
 *
 *   #base TOKEN
 *   next ID          the id the next rule added in place gets
 *   revoked ID       a rule of the list revoked in place (one a line)
 *   ID\tSTAGE\t...   a rule added in place: a line of the rule list
 *
 * Readers see the list with the revoked lines out and the added ones at its end.
 */
struct rule_edits {
	unsigned long long token;
	unsigned long next;
	unsigned long *revoked;
	size_t nr_revoked;
	char **added; /* rule list lines, without their newline */
	size_t nr_added;
};

/* 0, or -EINVAL when text is not an edits file, -ENOMEM */
int rule_edits_parse(const char *text, struct rule_edits *e);
int rule_edits_format(const struct rule_edits *e, char **text, size_t *len);
/* adds a rule list line (copied) */
int rule_edits_add(struct rule_edits *e, const char *line);
/* an added rule of this id goes; else the id is recorded revoked */
int rule_edits_revoke(struct rule_edits *e, unsigned long id);
void rule_edits_free(struct rule_edits *e);
/* the token of a rule list's "#base TOKEN" first line; 0 when it has none */
unsigned long long rule_list_token(const char *list);
/*
 * The rule list as edits make it (edits_text NULL, or of another token:
 * list as it is): a new string, NULL on no memory
 */
char *rule_list_merge(const char *list, size_t list_len, const char *edits_text, size_t *len);

#endif
