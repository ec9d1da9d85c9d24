/* pipeline_tc.c: attaching phase for classic tc filters: made, moved to a new dispatcher, undone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pipeline_tc.h"
#include "tc_classic.h"

#define hook_ingress tc_hook_ingress

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* pins prog_fd as pin in dir in one step: beside it, then renamed over it */
static int pin_swap(const char *dir, const char *pin, int prog_fd)
{
	char tmp[PIN_PATH_MAX + 8], path[PIN_PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s/new-%s", dir, pin);
	snprintf(path, sizeof(path), "%s/%s", dir, pin);
	unlink(tmp);
	if (bpf_obj_pin(prog_fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

static struct tc_filter_change *change_add(struct txn *t, const char *pin,
					   const struct attach_point *pt, enum link_hook hook,
					   const struct tc_filter *f)
{
	struct tc_filter_change *c = realloc(t->tc_changes, (t->nr_tc_changes + 1) * sizeof(*c));

	if (!c)
		return NULL;
	t->tc_changes = c;
	c += t->nr_tc_changes++;
	memset(c, 0, sizeof(*c));
	c->pt = *pt;
	c->hook = hook;
	c->f = *f;
	c->old_prog = -1;
	snprintf(c->pin, sizeof(c->pin), "%s", pin);
	return c;
}

bool txn_tc_is_classic(const char *name, const char *pin)
{
	struct tc_filter f;

	return !tc_filter_read(name, pin, &f);
}

int txn_tc_attach(struct txn *t, const char *name, const char *pin, const struct attach_point *pt,
		  enum link_hook hook, int prog_fd, struct diag *d)
{
	struct tc_filter_change *c;
	struct tc_filter f;
	int err, fd;

	err = tc_filter_attach(name, pin, pt, hook_ingress(hook), prog_fd, &f, d);
	if (err)
		return err;
	c = change_add(t, pin, pt, hook, &f);
	fd = c ? dup(prog_fd) : -ENOMEM;
	if (fd < 0 && c)
		fd = -errno;
	if (fd < 0) {
		tc_filter_detach(name, pin, pt, &f, hook_ingress(hook), 0);
		if (c)
			t->nr_tc_changes--;
		return fd;
	}
	c->new_prog_id = prog_id_of(prog_fd);
	return fd;
}

int txn_tc_move(struct txn *t, const char *name, const char *pin, const struct attach_point *pt,
		enum link_hook hook, int prog_fd, struct diag *d)
{
	char path[PIN_PATH_MAX];
	struct tc_filter_change *c;
	struct tc_filter f;
	__u32 old_id;
	int err;

	snprintf(path, sizeof(path), "%s/%s", t->dir, pin);
	if (tc_filter_read(name, pin, &f))
		return -ENOENT;
	if (hook == LINK_LEARN_INGRESS && t->host_side_tc) {
		/* a host-side point came: stop learning from inside the sandbox */
		tc_filter_detach(name, pin, pt, &f, hook_ingress(hook), 0);
		unlink(path);
		return 0;
	}
	if (!tc_filter_live(name, pin, pt, hook_ingress(hook), &old_id)) {
		diag_warn(d, NULL, 0,
			  "attachment %s was lost (its tc filter or interface is gone); removed",
			  pin + strlen(PIN_LINK_PREFIX));
		unlink(path);
		tc_filter_forget(name, pin);
		return 0;
	}
	c = change_add(t, pin, pt, hook, &f);
	if (!c)
		return -ENOMEM;
	c->old_prog = bpf_prog_get_fd_by_id(old_id);
	if (c->old_prog < 0) {
		err = -errno;
		t->nr_tc_changes--;
		return err;
	}
	/* the same handle and priority: the kernel swaps the program in one step */
	err = tc_filter_replace(pt, &f, hook_ingress(hook), prog_fd, d);
	if (err) {
		close(c->old_prog);
		t->nr_tc_changes--;
		return err;
	}
	c->new_prog_id = prog_id_of(prog_fd);
	err = pin_swap(t->dir, pin, prog_fd);
	if (err)
		diag_error(d, NULL, 0, "cannot pin %s: %s", path, strerror(-err));
	return err;
}

void txn_tc_undo(struct txn *t, const char *name)
{
	struct diag d = {};

	for (size_t i = t->nr_tc_changes; i-- > 0;) {
		struct tc_filter_change *c = &t->tc_changes[i];
		bool ingress = hook_ingress(c->hook);

		if (c->old_prog < 0) {
			tc_filter_detach(name, c->pin, &c->pt, &c->f, ingress, c->new_prog_id);
		} else if (!tc_filter_replace(&c->pt, &c->f, ingress, c->old_prog, &d)) {
			pin_swap(t->dir, c->pin, c->old_prog);
		}
	}
	diag_free(&d);
}

void txn_tc_free(struct txn *t)
{
	for (size_t i = 0; i < t->nr_tc_changes; i++)
		if (t->tc_changes[i].old_prog >= 0)
			close(t->tc_changes[i].old_prog);
	free(t->tc_changes);
}

int pipeline_tc_detach(const char *name, const char *pin, const struct attach_point *pt,
		       enum link_hook hook)
{
	struct tc_filter f;
	__u32 id = 0;
	int fd, err;

	if (tc_filter_read(name, pin, &f))
		return -ENOENT;
	fd = pins_get(name, pin);
	if (fd >= 0) {
		id = prog_id_of(fd);
		close(fd);
	}
	/* only our program: a filter put at that place since is not ours to remove */
	err = tc_filter_detach(name, pin, pt, &f, hook_ingress(hook), id ? id : (__u32)-1);
	if (!err)
		tc_filter_forget(name, pin);
	return err;
}
