/* event_names.c: what an event's numbers name: its rule's file:line (the rule list), the host its destination was learned for. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "counts.h"
#include "event_names.h"
#include "state.h"

/* how often the rule list's file is looked at, and the learned addresses read again */
#define LIST_CHECK_NS 500000000ull
#define LEARNED_READ_NS 1000000000ull

static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void event_names_init(struct event_names *n, const char *instance)
{
	memset(n, 0, sizeof(*n));
	n->instance = instance;
}

void event_names_free(struct event_names *n)
{
	free(n->rules);
	free(n->learned);
	n->rules = NULL;
	n->learned = NULL;
	n->nr_rules = 0;
	n->nr_learned = 0;
}

static int where_cmp(const void *a, const void *b)
{
	const struct event_rule_where *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* the rule list again when its file changed (a switch writes it anew) */
static void rules_refresh(struct event_names *n)
{
	char path[STATE_PATH_MAX], *text, *save = NULL;
	__u64 now = mono_now();
	struct stat st, est;
	size_t len, cap = 0;

	if (n->list_checked_ns && now - n->list_checked_ns < LIST_CHECK_NS)
		return;
	n->list_checked_ns = now;
	if (state_path(path, sizeof(path), n->instance, STATE_RULE_LIST) || stat(path, &st))
		return;
	/* live edits in place change the edits file beside it (rule_edits.h) */
	if (!state_path(path, sizeof(path), n->instance, STATE_RULE_EDITS) && !stat(path, &est)) {
		st.st_ino ^= est.st_ino * 31;
		st.st_size += est.st_size << 24;
		if (est.st_mtim.tv_sec > st.st_mtim.tv_sec ||
		    (est.st_mtim.tv_sec == st.st_mtim.tv_sec &&
		     est.st_mtim.tv_nsec > st.st_mtim.tv_nsec))
			st.st_mtim = est.st_mtim;
	}
	if (n->rules && st.st_ino == n->list_ino && st.st_size == n->list_size &&
	    st.st_mtim.tv_sec == n->list_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == n->list_mtime.tv_nsec)
		return;
	text = rule_list_read(n->instance, &len);
	if (!text)
		return;
	free(n->rules);
	n->rules = NULL;
	n->nr_rules = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct rule_list_entry e;
		struct event_rule_where *w;

		if (rule_list_parse(l, &e))
			continue;
		if (n->nr_rules == cap) {
			cap = cap ? 2 * cap : 64;
			w = realloc(n->rules, cap * sizeof(*w));
			if (!w)
				break;
			n->rules = w;
		}
		w = &n->rules[n->nr_rules++];
		w->id = e.id;
		snprintf(w->where, sizeof(w->where), "%s:%d", e.file, e.line);
	}
	free(text);
	qsort(n->rules, n->nr_rules, sizeof(*n->rules), where_cmp);
	n->list_ino = st.st_ino;
	n->list_size = st.st_size;
	n->list_mtime = st.st_mtim;
}

const char *event_names_rule(struct event_names *n, __u32 id)
{
	struct event_rule_where key = { .id = id }, *w;

	rules_refresh(n);
	w = n->nr_rules ? bsearch(&key, n->rules, n->nr_rules, sizeof(*n->rules), where_cmp) : NULL;
	return w ? w->where : "";
}

const char *event_names_dest(struct event_names *n, __u8 family, const __u8 *addr)
{
	__u64 now = mono_now();
	size_t alen = family == AF_INET ? 4 : 16;

	if (family != AF_INET && family != AF_INET6)
		return "";
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n->nr_learned; i++) {
			const struct learned_addr *a = &n->learned[i];

			if (a->addr.family == family && !memcmp(a->addr.bytes, addr, alen))
				return a->host;
		}
		/* not there: read them again, at most once a second */
		if (pass || (n->learned_ns && now - n->learned_ns < LEARNED_READ_NS))
			break;
		n->learned_ns = now;
		free(n->learned);
		n->learned = NULL;
		n->nr_learned = learn_state_read(n->instance, &n->learned);
		if (n->nr_learned < 0)
			n->nr_learned = 0;
	}
	return "";
}
