/* expect.c: a profile's tests (NN-name.test) read into a list of expectations. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "expect.h"
#include "lines.h"
#include "pkt_build.h"
#include "rule.h"
#include "trusted.h"

#define EXPECT_MAX_WORDS 12
#define EXPECT_GRAMMAR                                                                             \
	"expect allow|deny tcp|udp ADDRESS port P [server_name NAME] [tool T], expect "            \
	"allow|deny tcp|udp name HOST port P [server_name NAME] [tool T] or expect allow|deny "    \
	"dns NAME [tool T]"

static const char *intern_file(struct expect_set *s, const char *name)
{
	char **files;

	for (size_t i = 0; i < s->nr_files; i++)
		if (!strcmp(s->files[i], name))
			return s->files[i];
	files = realloc(s->files, (s->nr_files + 1) * sizeof(*files));
	if (!files)
		return NULL;
	s->files = files;
	files[s->nr_files] = strdup(name);
	return files[s->nr_files] ? files[s->nr_files++] : NULL;
}

/* "tool T" at w[i] */
static int parse_tool(const char *file, int line, char **w, int n, int i, struct expect *e,
		      struct diag *d)
{
	if (e->tool) {
		diag_error(d, file, line, "'tool' twice");
		return -EINVAL;
	}
	if (i + 1 == n) {
		diag_error(d, file, line, "missing tool name after 'tool'");
		return -EINVAL;
	}
	if (!tool_name_valid(w[i + 1])) {
		diag_error(d, file, line, "bad tool '%s': a tool is a cgroup directory's name",
			   w[i + 1]);
		return -EINVAL;
	}
	e->tool = strdup(w[i + 1]);
	return e->tool ? 0 : -ENOMEM;
}

/* "server_name NAME" at w[i]: the server name of the flow's TLS ClientHello */
static int parse_server_name(const char *file, int line, char **w, int n, int i, struct expect *e,
			     struct diag *d)
{
	if (e->server_name) {
		diag_error(d, file, line, "'server_name' twice");
		return -EINVAL;
	}
	if (e->kind == EXPECT_DNS || e->l4proto != IPPROTO_TCP) {
		diag_error(d, file, line,
			   "'server_name' on a %s line: a TLS ClientHello goes over TCP (expect "
			   "allow|deny tcp ... port P server_name NAME)",
			   e->kind == EXPECT_DNS ? "dns" : "udp");
		return -EINVAL;
	}
	if (i + 1 == n) {
		diag_error(d, file, line, "missing server name after 'server_name'");
		return -EINVAL;
	}
	if (pkt_dns_name_check(w[i + 1]) || strchr(w[i + 1], '*')) {
		diag_error(d, file, line,
			   "bad server name '%s': a host name (labels of 1-63 bytes, at most 253, "
			   "no '*')",
			   w[i + 1]);
		return -EINVAL;
	}
	e->server_name = strdup(w[i + 1]);
	return e->server_name ? 0 : -ENOMEM;
}

/* "[server_name NAME] [tool T]", in any order, from w[i] on: the last words of the line */
static int parse_options(const char *file, int line, char **w, int n, int i, struct expect *e,
			 struct diag *d)
{
	int err = 0;

	for (; !err && i < n; i += 2) {
		if (!strcmp(w[i], "tool"))
			err = parse_tool(file, line, w, n, i, e, d);
		else if (!strcmp(w[i], "server_name"))
			err = parse_server_name(file, line, w, n, i, e, d);
		else {
			diag_error(d, file, line,
				   "unknown word '%s' (expected 'tool', 'server_name' or the end)",
				   w[i]);
			err = -EINVAL;
		}
	}
	return err;
}

/* "port P" at w[i]: one port */
static int parse_port(const char *file, int line, char **w, int n, int i, struct expect *e,
		      struct diag *d)
{
	__u16 lo, hi;

	if (i >= n || strcmp(w[i], "port")) {
		diag_error(d, file, line, "expected 'port P' after the destination%s%s%s",
			   i < n ? ", got '" : "", i < n ? w[i] : "", i < n ? "'" : "");
		return -EINVAL;
	}
	if (i + 1 >= n) {
		diag_error(d, file, line, "missing port after 'port'");
		return -EINVAL;
	}
	if (port_range_parse(w[i + 1], &lo, &hi) || lo != hi) {
		diag_error(d, file, line, "bad port '%s': a packet goes to one port, 1-65535",
			   w[i + 1]);
		return -EINVAL;
	}
	e->port = lo;
	return 0;
}

static int parse_words(const char *file, int line, char **w, int n, struct expect *e,
		       struct diag *d)
{
	int err;

	if (strcmp(w[0], "expect")) {
		diag_error(d, file, line, "unknown word '%s' (a test line is " EXPECT_GRAMMAR ")",
			   w[0]);
		return -EINVAL;
	}
	if (n < 2 || (strcmp(w[1], "allow") && strcmp(w[1], "deny"))) {
		diag_error(d, file, line, "expected 'allow' or 'deny' after 'expect'%s%s%s",
			   n < 2 ? "" : ", got '", n < 2 ? "" : w[1], n < 2 ? "" : "'");
		return -EINVAL;
	}
	e->allow = w[1][0] == 'a';
	if (n < 3 || (strcmp(w[2], "tcp") && strcmp(w[2], "udp") && strcmp(w[2], "dns"))) {
		diag_error(d, file, line, "expected 'tcp', 'udp' or 'dns' after '%s'%s%s%s", w[1],
			   n < 3 ? "" : ", got '", n < 3 ? "" : w[2], n < 3 ? "" : "'");
		return -EINVAL;
	}
	if (n < 4) {
		diag_error(d, file, line, "missing %s after '%s'",
			   w[2][0] == 'd' ? "query name" : "destination", w[2]);
		return -EINVAL;
	}
	if (!strcmp(w[2], "dns")) {
		e->kind = EXPECT_DNS;
		e->l4proto = IPPROTO_UDP;
		e->port = 53;
		if (pkt_dns_name_check(w[3])) {
			diag_error(d, file, line,
				   "bad query name '%s' (labels of 1-63 bytes, at most 253)", w[3]);
			return -EINVAL;
		}
		e->host = strdup(w[3]);
		return e->host ? parse_options(file, line, w, n, 4, e, d) : -ENOMEM;
	}
	e->l4proto = w[2][0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
	if (!strcmp(w[3], "name")) {
		e->kind = EXPECT_NAME;
		if (n < 5 || pkt_dns_name_check(w[4]) || w[4][0] == '*') {
			diag_error(d, file, line, "%s host name after 'name'%s%s%s",
				   n < 5 ? "missing" : "bad", n < 5 ? "" : ": '", n < 5 ? "" : w[4],
				   n < 5 ? "" : "'");
			return -EINVAL;
		}
		e->host = strdup(w[4]);
		if (!e->host)
			return -ENOMEM;
		err = parse_port(file, line, w, n, 5, e, d);
		return err ? err : parse_options(file, line, w, n, 7, e, d);
	}
	e->kind = EXPECT_ADDR;
	err = addr_parse(w[3], &e->dst);
	if (err || !addr_is_single(&e->dst)) {
		diag_error(d, file, line,
			   "bad destination '%s': a packet goes to one address (10.42.7.11, "
			   "fd00::1), or write 'name HOST'",
			   w[3]);
		return -EINVAL;
	}
	err = parse_port(file, line, w, n, 4, e, d);
	return err ? err : parse_options(file, line, w, n, 6, e, d);
}

int expect_parse_line(struct expect_set *s, const char *file, int line, const char *text,
		      struct diag *d)
{
	char *copy = strdup(text), *w[EXPECT_MAX_WORDS], *hash, *save = NULL;
	struct expect e = { .line = line };
	size_t len = 0;
	int n = 0, err = 0;

	if (!copy)
		return -ENOMEM;
	hash = strchr(copy, '#');
	if (hash)
		*hash = '\0';
	for (char *t = strtok_r(copy, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == EXPECT_MAX_WORDS) {
			diag_error(d, file, line,
				   "too many words (a test line is " EXPECT_GRAMMAR ")");
			err = -EINVAL;
			goto out;
		}
		w[n++] = t;
		len += strlen(t) + 1;
	}
	if (!n)
		goto out;
	err = parse_words(file, line, w, n, &e, d);
	if (err)
		goto out;
	e.file = intern_file(s, file);
	e.text = calloc(1, len + 1);
	if (!e.file || !e.text) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(e.text, " ");
		strcat(e.text, w[i]);
	}
	{
		struct expect *v = realloc(s->v, (s->nr + 1) * sizeof(*v));

		if (!v) {
			err = -ENOMEM;
			goto out;
		}
		s->v = v;
		s->v[s->nr++] = e;
		e = (struct expect){ 0 };
	}
out:
	free(e.text);
	free(e.host);
	free(e.tool);
	free(e.server_name);
	free(copy);
	return err;
}

static int read_line(void *ctx, const char *path, int lineno, const char *line, struct diag *d)
{
	return expect_parse_line(ctx, path, lineno, line, d);
}

int expect_read(struct expect_set *s, FILE *f, const char *path, struct diag *d)
{
	return lines_read(f, path, "test file", read_line, s, d);
}

static int is_test_file(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 && !strcmp(de->d_name + len - 5, ".test");
}

int expect_load_dir(const char *dir, struct expect_set *s, struct diag *d)
{
	struct dirent **names = NULL;
	int dirfd = trusted_dir_open(dir, d), n, err = 0;

	if (dirfd < 0)
		return dirfd;
	n = scandirat(dirfd, ".", &names, is_test_file, alphasort);
	if (n < 0) {
		err = -errno;
		diag_error(d, dir, 0, "cannot read profile directory: %s", strerror(-err));
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;
		int fd = -1, e;
		FILE *f = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			e = -ENOMEM;
		else
			e = fd = trusted_open(dirfd, names[i]->d_name, path, TRUSTED_TEST, d);
		if (fd >= 0) {
			f = fdopen(fd, "r");
			e = f ? expect_read(s, f, path, d) : -ENOMEM;
			if (f)
				fclose(f);
			else
				close(fd);
		}
		if (e < 0 && !err)
			err = e;
		free(path);
		free(names[i]);
	}
	free(names);
	close(dirfd);
	return err;
}

void expect_free(struct expect_set *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->v[i].text);
		free(s->v[i].host);
		free(s->v[i].tool);
		free(s->v[i].server_name);
	}
	for (size_t i = 0; i < s->nr_files; i++)
		free(s->files[i]);
	free(s->v);
	free(s->files);
	memset(s, 0, sizeof(*s));
}
