/* ctl.h: an instance's control word (generation, blocked), mapped and changed atomically. */
#ifndef IRONCLAW_CTL_H
#define IRONCLAW_CTL_H

#include <stdbool.h>
#include <linux/types.h>

struct ctl_word {
	int fd; /* the ctl map */
	__u32 *word; /* mapped; NULL: the map is not mappable (an instance of an earlier build) */
};

/* maps the control word of the ctl map fd (not taken over); 0 or -errno */
int ctl_open(int fd, struct ctl_word *c);
void ctl_close(struct ctl_word *c);
/* the word now; 0 or -errno */
int ctl_read(const struct ctl_word *c, __u32 *w);
/* the word now of instance name, through its pinned ctl map; 0 or -errno */
int ctl_read_pinned(const char *name, __u32 *w);
/*
 * Sets CTL_BLOCKED with an atomic OR: no lock needed, and a switch that
 * runs meanwhile keeps the bit (ctl_switch). An unmapped word: a lookup and
 * an update, which only the instance lock keeps from a switch (-EAGAIN
 * when the caller says it does not hold it).
 */
int ctl_block(struct ctl_word *c, bool locked);
/*
 * The switch to generation gen, from the word read before the transaction
 * (old): CTL_BLOCKED is kept when keep_block and old had it, and always
 * when it was set since (a block during the install wins). *now: the word
 * written.
 */
int ctl_switch(struct ctl_word *c, __u32 old, __u32 gen, bool keep_block, __u32 *now);

#endif
