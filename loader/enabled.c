/* enabled.c: an enabled instance, the one file that restores it at boot: /etc/ironclaw-pipe/instances/NAME.conf. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "enabled.h"
#include "netns.h"

int enabled_path(char *buf, size_t len, const char *name)
{
	char file[INSTANCE_NAME_MAX + 32];

	snprintf(file, sizeof(file), ENABLED_DIR "/%s.conf", name);
	return state_conf_path(buf, len, file);
}

int enabled_live_path(char *buf, size_t len, const char *name)
{
	char file[INSTANCE_NAME_MAX + 32];

	snprintf(file, sizeof(file), ENABLED_DIR "/%s.live.rules", name);
	return state_conf_path(buf, len, file);
}

bool enabled_exists(const char *name)
{
	char path[STATE_PATH_MAX];

	return !enabled_path(path, sizeof(path), name) && !access(path, F_OK);
}

static const struct {
	const char *key;
	enum attach_kind kind;
} point_keys[] = {
	{ "tc-ingress", ATTACH_TC_INGRESS },
	{ "tc", ATTACH_TC_EGRESS },
	{ "xdp", ATTACH_XDP },
	{ "cgroup", ATTACH_CGROUP },
};

#define NR_POINT_KEYS (sizeof(point_keys) / sizeof(point_keys[0]))

static int set_string(char *to, size_t len, const char *v, const char *path, int line,
		      const char *key, struct diag *d)
{
	if (to[0]) {
		diag_error(d, path, line, "%s given twice", key);
		return -EINVAL;
	}
	if (!*v || strlen(v) >= len) {
		diag_error(d, path, line, "%s: %s", key, *v ? "too long" : "empty");
		return -EINVAL;
	}
	strcpy(to, v);
	return 0;
}

/* a namespace the file names must outlive processes: it is read at boot */
static int set_netns(char *to, size_t len, const char *v, const char *path, int line,
		     const char *key, struct diag *d)
{
	if (netns_ref_valid(v)) {
		diag_error(d, path, line,
			   "%s: bad network namespace '%s': a name in /run/netns or an absolute "
			   "path",
			   key, v);
		return -EINVAL;
	}
	if (!netns_ref_persistent(v)) {
		diag_error(d, path, line,
			   "%s: '%s' names a process's namespace, which does not outlive a reboot: "
			   "name it in /run/netns or bind-mount it",
			   key, v);
		return -EINVAL;
	}
	return set_string(to, len, v, path, line, key, d);
}

static int set_point(struct enabled_conf *c, enum attach_kind kind, const char *key, const char *v,
		     int line, struct diag *d)
{
	struct enabled_point *p = &c->points[c->nr_points];
	struct attach_point pt;

	if (c->nr_points == ENABLED_MAX_POINTS) {
		diag_error(d, c->path, line, "more than %d attach points", ENABLED_MAX_POINTS);
		return -EINVAL;
	}
	if (!*v || strlen(v) >= sizeof(p->arg)) {
		diag_error(d, c->path, line, "%s: %s", key, *v ? "too long" : "empty");
		return -EINVAL;
	}
	if (kind != ATTACH_CGROUP) {
		if (attach_point_parse(v, kind, &pt)) {
			diag_error(d, c->path, line,
				   "%s: bad interface '%s': IFACE or IFACE@NS, NS a name in "
				   "/run/netns or an absolute path",
				   key, v);
			return -EINVAL;
		}
		if (pt.netns[0] && !netns_ref_persistent(pt.netns)) {
			diag_error(d, c->path, line,
				   "%s: '%s' names a process's namespace, which does not outlive "
				   "a reboot: name it in /run/netns or bind-mount it",
				   key, pt.netns);
			return -EINVAL;
		}
	}
	p->kind = kind;
	p->line = line;
	strcpy(p->arg, v);
	c->nr_points++;
	return 0;
}

/* one more single address (source=, gateway=) into list[*n], at most max */
static int add_addr(struct addr *list, size_t *n, size_t max, const char *v, const char *path,
		    int line, const char *key, struct diag *d)
{
	if (*n == max) {
		diag_error(d, path, line, "more than %zu %s lines", max, key);
		return -EINVAL;
	}
	if (addr_parse(v, &list[*n]) || !addr_is_single(&list[*n])) {
		diag_error(d, path, line, "%s: '%s' is not one address", key, v);
		return -EINVAL;
	}
	(*n)++;
	return 0;
}

static int parse_line(struct enabled_conf *c, char *l, int line, struct diag *d)
{
	char *eq = strchr(l, '='), *key = l, *v, *end;

	if (!eq) {
		diag_error(d, c->path, line, "expected key=value");
		return -EINVAL;
	}
	*eq = '\0';
	v = eq + 1;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	for (size_t i = 0; i < NR_POINT_KEYS; i++)
		if (!strcmp(key, point_keys[i].key))
			return set_point(c, point_keys[i].kind, key, v, line, d);
	if (!strcmp(key, "profile")) {
		if (v[0] != '/') {
			diag_error(d, c->path, line, "profile: '%s' is not an absolute path", v);
			return -EINVAL;
		}
		return set_string(c->profile, sizeof(c->profile), v, c->path, line, key, d);
	}
	if (!strcmp(key, "sandbox-netns"))
		return set_netns(c->sandbox_netns, sizeof(c->sandbox_netns), v, c->path, line, key,
				 d);
	if (!strcmp(key, "sandbox-cgroup"))
		return set_string(c->sandbox_cgroup, sizeof(c->sandbox_cgroup), v, c->path, line,
				  key, d);
	if (!strcmp(key, "source"))
		return add_addr(c->sources, &c->nr_sources, ENABLED_MAX_SOURCES, v, c->path, line,
				key, d);
	if (!strcmp(key, "gateway"))
		return add_addr(c->gateways, &c->nr_gateways, ENABLED_MAX_GATEWAYS, v, c->path,
				line, key, d);
	if (!strcmp(key, "audit")) {
		if (strcmp(v, "yes") && strcmp(v, "no")) {
			diag_error(d, c->path, line, "audit: '%s' is not yes or no", v);
			return -EINVAL;
		}
		c->audit = !strcmp(v, "yes");
		return 0;
	}
	diag_error(d, c->path, line,
		   "unknown key '%s' (profile, tc-ingress, tc, xdp, cgroup, sandbox-netns, "
		   "sandbox-cgroup, source, gateway, audit)",
		   key);
	return -EINVAL;
}

int enabled_read(const char *name, struct enabled_conf *c, struct diag *d)
{
	char *text, *l, *next;
	size_t len;
	int line = 0, err = 0;

	memset(c, 0, sizeof(*c));
	enabled_path(c->path, sizeof(c->path), name);
	text = state_read_file(c->path, &len);
	if (!text) {
		if (errno == ENOENT) {
			diag_error(d, NULL, 0, "instance '%s' is not enabled (no %s)", name,
				   c->path);
			return -ENOENT;
		}
		err = -errno;
		diag_error(d, c->path, 0, "cannot read%s: %s",
			   errno == EPERM ? " (not root's, writable by others, or a symlink)" : "",
			   strerror(errno));
		return err;
	}
	if (memchr(text, '\0', len)) {
		diag_error(d, c->path, 0, "a NUL byte: not a text file");
		free(text);
		return -EINVAL;
	}
	for (l = text; l && *l; l = next) {
		char *hash;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		hash = strchr(l, '#');
		if (hash)
			*hash = '\0';
		l += strspn(l, " \t");
		if (!*l)
			continue;
		err = parse_line(c, l, line, d) ?: err;
	}
	free(text);
	if (!err && !c->profile[0]) {
		diag_error(d, c->path, 0, "no profile= line");
		err = -EINVAL;
	}
	if (!err && !c->nr_points) {
		diag_error(d, c->path, 0, "no attach point (tc-ingress=, tc=, xdp= or cgroup=)");
		err = -EINVAL;
	}
	return err;
}

char *enabled_format(const char *name, const struct enabled_conf *c)
{
	char *text = NULL, buf[ADDR_STR_LEN];
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (!f)
		return NULL;
	fprintf(f,
		"# ironclaw-pipe instance '%s': 'ironclaw-pipe restore %s' installs it from this\n"
		"# file (written by 'ironclaw-pipe enable'; the keys are install's options)\n",
		name, name);
	fprintf(f, "profile=%s\n", c->profile);
	for (size_t i = 0; i < c->nr_points; i++)
		for (size_t k = 0; k < NR_POINT_KEYS; k++)
			if (point_keys[k].kind == c->points[i].kind)
				fprintf(f, "%s=%s\n", point_keys[k].key, c->points[i].arg);
	if (c->sandbox_netns[0])
		fprintf(f, "sandbox-netns=%s\n", c->sandbox_netns);
	if (c->sandbox_cgroup[0])
		fprintf(f, "sandbox-cgroup=%s\n", c->sandbox_cgroup);
	for (size_t i = 0; i < c->nr_sources; i++)
		fprintf(f, "source=%s\n", addr_format(&c->sources[i], buf, sizeof(buf)));
	for (size_t i = 0; i < c->nr_gateways; i++)
		fprintf(f, "gateway=%s\n", addr_format(&c->gateways[i], buf, sizeof(buf)));
	fprintf(f, "audit=%s\n", c->audit ? "yes" : "no");
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

int enabled_write(const char *name, const struct enabled_conf *c, struct diag *d)
{
	char path[STATE_PATH_MAX], *text;
	int err;

	err = state_conf_dir_ensure(ENABLED_DIR, d);
	if (err)
		return err;
	text = enabled_format(name, c);
	if (!text)
		return -ENOMEM;
	enabled_path(path, sizeof(path), name);
	err = state_write_file(path, text, strlen(text));
	if (err)
		diag_error(d, NULL, 0, "cannot write %s: %s", path, strerror(-err));
	free(text);
	return err;
}

int enabled_remove(const char *name)
{
	char path[STATE_PATH_MAX];
	int err = 0;

	enabled_path(path, sizeof(path), name);
	if (unlink(path))
		err = -errno;
	enabled_live_path(path, sizeof(path), name);
	unlink(path);
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int enabled_list(char (*names)[INSTANCE_NAME_MAX], size_t max, struct diag *d)
{
	char dir[STATE_PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *dd;

	state_conf_path(dir, sizeof(dir), ENABLED_DIR);
	dd = opendir(dir);
	if (!dd) {
		if (errno == ENOENT)
			return 0;
		diag_error(d, dir, 0, "cannot list: %s", strerror(errno));
		return -errno;
	}
	while ((de = readdir(dd))) {
		size_t len = strlen(de->d_name);
		char name[INSTANCE_NAME_MAX];

		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") || len - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (!instance_name_valid(name))
			continue;
		if (n == max) {
			closedir(dd);
			diag_error(d, dir, 0, "more than %zu enabled instances", max);
			return -E2BIG;
		}
		strcpy(names[n++], name);
	}
	closedir(dd);
	qsort(names, n, sizeof(names[0]), name_cmp);
	return n;
}
