/* ctl.c: an instance's control word (generation, blocked), mapped and changed atomically. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "pins.h"
#include "policy.h"

int ctl_open(int fd, struct ctl_word *c)
{
	void *m;

	c->fd = fd;
	c->word = NULL;
	m = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED)
		c->word = m;
	return 0;
}

void ctl_close(struct ctl_word *c)
{
	if (c->word)
		munmap(c->word, sysconf(_SC_PAGESIZE));
	c->word = NULL;
}

int ctl_read(const struct ctl_word *c, __u32 *w)
{
	__u32 zero = 0;

	if (c->word) {
		*w = __atomic_load_n(c->word, __ATOMIC_SEQ_CST);
		return 0;
	}
	return bpf_map_lookup_elem(c->fd, &zero, w) ? -errno : 0;
}

int ctl_block(struct ctl_word *c, bool locked)
{
	__u32 zero = 0, w;

	if (c->word) {
		__atomic_fetch_or(c->word, CTL_BLOCKED, __ATOMIC_SEQ_CST);
		return 0;
	}
	if (!locked)
		return -EAGAIN;
	if (bpf_map_lookup_elem(c->fd, &zero, &w))
		return -errno;
	w |= CTL_BLOCKED;
	return bpf_map_update_elem(c->fd, &zero, &w, BPF_ANY) ? -errno : 0;
}

int ctl_switch(struct ctl_word *c, __u32 old, __u32 gen, bool keep_block, __u32 *now)
{
	__u32 zero = 0, want = gen | (keep_block ? old & CTL_BLOCKED : 0);

	if (!c->word) {
		*now = want;
		return bpf_map_update_elem(c->fd, &zero, &want, BPF_ANY) ? -errno : 0;
	}
	/* the word changed since old only if a block came: keep it */
	while (!__atomic_compare_exchange_n(c->word, &old, want, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		want = gen | (old & CTL_BLOCKED);
	*now = want;
	return 0;
}

int ctl_read_pinned(const char *name, __u32 *w)
{
	struct ctl_word c;
	int fd = pins_get(name, "ctl"), err;

	if (fd < 0)
		return fd;
	ctl_open(fd, &c);
	err = ctl_read(&c, w);
	ctl_close(&c);
	close(fd);
	return err;
}
