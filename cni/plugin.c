/* plugin.c: the CNI plugin "ironclaw-pipe": reads the runtime's environment and config, calls the instance layer, prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "cni_args.h"
#include "instance.h"
#include "instance_cni.h"
#include "xdp.h"

#define CNI_SPEC_LATEST "1.0.0"
#define STDIN_MAX (1 << 20)

/* the error codes of the CNI spec (1.0.0, "Error"), and ours from 100 */
enum cni_code {
	CNI_ERR_VERSION = 1, /* incompatible CNI version */
	CNI_ERR_ENV = 4, /* invalid necessary environment variables */
	CNI_ERR_DECODE = 6, /* failed to decode content */
	CNI_ERR_CONFIG = 7, /* invalid network config */
	CNI_ERR_INSTALL = 100, /* the instance could not be installed or removed */
	CNI_ERR_NO_HOST_VETH = 101, /* prevResult names no host-side veth of the interface */
	CNI_ERR_PROFILE = 102, /* the profile is missing, invalid, or has tool rules */
	CNI_ERR_NETNS = 103, /* CNI_NETNS or CNI_IFNAME cannot be found */
	CNI_ERR_LOST = 104, /* CHECK: the instance is gone or an attachment is lost */
};

static const char *const versions[] = { "0.4.0", "1.0.0" };

struct cni_call {
	const char *command;
	const char *version; /* the config's cniVersion, for the error object */
	struct json_object *conf;
	struct cni_attachment at;
	char name[32]; /* the instance */
};

/* prints the CNI error object on stdout (the runtime reads it), the details on stderr too */
static int cni_error(const struct cni_call *c, enum cni_code code, const struct diag *d,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int cni_error(const struct cni_call *c, enum cni_code code, const struct diag *d,
		     const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char *msg = NULL, *details = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&details, &len);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	for (int i = 0; f && d && i < d->nr; i++)
		fprintf(f, "%s%s", i ? "; " : "", d->msgs[i]);
	if (f)
		fclose(f);
	json_object_object_add(o, "cniVersion",
			       json_object_new_string(c->version ? c->version : CNI_SPEC_LATEST));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "msg", json_object_new_string(msg ? msg : "out of memory"));
	if (details && *details)
		json_object_object_add(o, "details", json_object_new_string(details));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	fprintf(stderr, "ironclaw-pipe CNI %s: %s%s%s\n", c->command ? c->command : "",
		msg ? msg : "", details && *details ? ": " : "", details ? details : "");
	free(msg);
	free(details);
	json_object_put(o);
	return 1;
}

/* a string member of o, or NULL (absent or another type) */
static const char *member_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* the CNI spec's names: an alphanumeric, then alphanumerics, '_', '.' or '-' */
static bool cni_word(const char *s, size_t max)
{
	size_t n = strlen(s);
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	return n > 0 && n < max && strspn(s, ok) == n && strchr(ok, s[0]) && s[0] != '_' &&
	       s[0] != '.' && s[0] != '-';
}

static char *read_stdin(size_t *len)
{
	char *buf = malloc(STDIN_MAX + 1);
	size_t n = 0;
	ssize_t r;

	if (!buf)
		return NULL;
	while (n < STDIN_MAX && (r = read(STDIN_FILENO, buf + n, STDIN_MAX - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		n += r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* the network configuration on stdin: one JSON object, strictly parsed; 0 or an exit status */
static int read_conf(struct cni_call *c)
{
	struct json_tokener *tok = json_tokener_new();
	size_t len = 0;
	char *text = read_stdin(&len);
	const char *name;
	bool known = false, trailing = false;

	if (!text || !tok) {
		json_tokener_free(tok);
		free(text);
		return cni_error(c, CNI_ERR_DECODE, NULL,
				 "cannot read the network configuration "
				 "from stdin");
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	c->conf = json_tokener_parse_ex(tok, text, len);
	if (c->conf && (size_t)tok->char_offset < len &&
	    strspn(text + tok->char_offset, " \t\r\n") < len - tok->char_offset) {
		json_object_put(c->conf);
		c->conf = NULL;
		trailing = true;
	}
	if (!c->conf || !json_object_is_type(c->conf, json_type_object)) {
		int err = cni_error(c, CNI_ERR_DECODE, NULL,
				    "the network configuration on stdin is not a JSON object "
				    "(%s at byte %d)",
				    c->conf  ? "another value" :
				    trailing ? "more after the object" :
				    json_tokener_get_error(tok) == json_tokener_continue ?
					       "it ends early" :
					       json_tokener_error_desc(json_tokener_get_error(tok)),
				    tok->char_offset);

		json_tokener_free(tok);
		free(text);
		return err;
	}
	json_tokener_free(tok);
	free(text);
	c->version = member_str(c->conf, "cniVersion");
	for (size_t i = 0; c->version && i < sizeof(versions) / sizeof(versions[0]); i++)
		known |= !strcmp(c->version, versions[i]);
	if (!known) {
		const char *v = c->version;

		c->version = NULL;
		return cni_error(c, CNI_ERR_VERSION, NULL,
				 "cniVersion %s%s%s: this plugin supports 0.4.0 and 1.0.0",
				 v ? "\"" : "", v ? v : "missing", v ? "\"" : "");
	}
	name = member_str(c->conf, "name");
	if (!name || !cni_word(name, CNI_NETWORK_MAX))
		return cni_error(c, CNI_ERR_CONFIG, NULL,
				 "the network configuration needs a \"name\": an alphanumeric, "
				 "then alphanumerics, '_', '.' or '-'");
	snprintf(c->at.network, sizeof(c->at.network), "%s", name);
	return 0;
}

/* CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS (needed: ADD, CHECK), and the instance's name */
static int read_env(struct cni_call *c, bool need_netns)
{
	const char *id = getenv("CNI_CONTAINERID"), *ifname = getenv("CNI_IFNAME");
	const char *netns = getenv("CNI_NETNS");

	if (!id || !cni_word(id, CNI_CONTAINER_MAX))
		return cni_error(c, CNI_ERR_ENV, NULL,
				 "CNI_CONTAINERID %s: give the container's id (alphanumerics, "
				 "'_', '.', '-')",
				 id ? "is not valid" : "is not set");
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/') ||
	    strpbrk(ifname, " \t\n:") || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return cni_error(c, CNI_ERR_ENV, NULL,
				 "CNI_IFNAME %s: give the interface's name in the container",
				 ifname ? "is not an interface name" : "is not set");
	if (need_netns && (!netns || !*netns))
		return cni_error(c, CNI_ERR_ENV, NULL, "CNI_NETNS is not set");
	if (netns && *netns && (netns[0] != '/' || netns_ref_valid(netns)))
		return cni_error(c, CNI_ERR_ENV, NULL,
				 "CNI_NETNS '%s': an absolute path of a network namespace", netns);
	snprintf(c->at.container, sizeof(c->at.container), "%s", id);
	snprintf(c->at.ifname, sizeof(c->at.ifname), "%s", ifname);
	snprintf(c->at.netns, sizeof(c->at.netns), "%s", netns ? netns : "");
	cni_instance_name(c->at.network, id, ifname, c->name, sizeof(c->name));
	return 0;
}

/* the profile: "profile", or "profiles" by K8S_POD_NAMESPACE of CNI_ARGS, else its default */
static int pick_profile(struct cni_call *c, char *out, size_t len)
{
	const char *one = member_str(c->conf, "profile"), *dir = member_str(c->conf, "profiles");
	char ns[CNI_K8S_NS_MAX];
	bool has_ns = !cni_args_get(getenv("CNI_ARGS"), "K8S_POD_NAMESPACE", ns, sizeof(ns));
	int err;

	if (!one == !dir)
		return cni_error(c, CNI_ERR_CONFIG, NULL,
				 "give the plugin either \"profile\": DIR or \"profiles\": DIR (a "
				 "directory per Kubernetes namespace and \"default\")%s",
				 one ? ", not both" : "");
	if (one) {
		if ((size_t)snprintf(out, len, "%s", one) >= len || one[0] != '/')
			return cni_error(c, CNI_ERR_CONFIG, NULL,
					 "\"profile\": \"%s\": an absolute directory", one);
		return 0;
	}
	if (dir[0] != '/')
		return cni_error(c, CNI_ERR_CONFIG, NULL,
				 "\"profiles\": \"%s\": an absolute "
				 "directory",
				 dir);
	err = cni_profile_pick(dir, has_ns ? ns : NULL, out, len);
	if (err == -EINVAL)
		return cni_error(c, CNI_ERR_ENV, NULL,
				 "K8S_POD_NAMESPACE in CNI_ARGS is no namespace name");
	if (err)
		return cni_error(
			c, CNI_ERR_PROFILE, NULL,
			"no profile for the pod%s%s%s: neither %s/%s%s nor %s/default is a "
			"directory",
			has_ns ? " of namespace '" : "", has_ns ? ns : "", has_ns ? "'" : "", dir,
			has_ns ? ns : "", has_ns ? "" : "", dir);
	return 0;
}

/*
 * From prevResult: the interfaces without "sandbox" (the host side's and a
 * bridge's), the container's interface (its index), and the addresses of
 * the "ips" on it. 0 or an exit status.
 */
static int read_prev(struct cni_call *c, struct json_object *prev, char (*cands)[IF_NAMESIZE],
		     size_t *nr_cands, struct addr *src, size_t *nr_src)
{
	struct json_object *ifs = NULL, *ips = NULL;
	long mine = -1;
	size_t n;

	*nr_cands = *nr_src = 0;
	if (!json_object_object_get_ex(prev, "interfaces", &ifs) ||
	    !json_object_is_type(ifs, json_type_array))
		return cni_error(c, CNI_ERR_CONFIG, NULL, "prevResult has no \"interfaces\"");
	n = json_object_array_length(ifs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ifs, i);
		const char *name = member_str(e, "name"), *sbx = member_str(e, "sandbox");

		if (!name)
			continue;
		if (sbx && *sbx) {
			/* the container's own: its name, in CNI_NETNS (as a path may be spelled
			 * otherwise, the name alone when no entry has that path) */
			if (!strcmp(name, c->at.ifname) && (mine < 0 || !strcmp(sbx, c->at.netns)))
				mine = i;
		} else if (strlen(name) < IF_NAMESIZE && *nr_cands < INSTANCE_MAX_POINTS) {
			snprintf(cands[(*nr_cands)++], IF_NAMESIZE, "%s", name);
		}
	}
	if (!*nr_cands)
		return cni_error(
			c, CNI_ERR_NO_HOST_VETH, NULL,
			"prevResult has no interface without \"sandbox\", so no host side: "
			"chain ironclaw-pipe after a plugin that makes a veth (bridge, ptp)");
	if (json_object_object_get_ex(prev, "ips", &ips) &&
	    json_object_is_type(ips, json_type_array)) {
		n = json_object_array_length(ips);
		for (size_t i = 0; i < n && *nr_src < INSTANCE_MAX_SOURCES; i++) {
			struct json_object *e = json_object_array_get_idx(ips, i), *ifx;
			const char *a = member_str(e, "address");
			char buf[ADDR_STR_LEN], *slash;

			/* an address of another interface is not the container's on this one */
			if (json_object_object_get_ex(e, "interface", &ifx) &&
			    json_object_get_int64(ifx) != mine)
				continue;
			if (!a || strlen(a) >= sizeof(buf))
				continue;
			snprintf(buf, sizeof(buf), "%s", a);
			slash = strchr(buf, '/');
			if (slash)
				*slash = '\0'; /* the container's address, not its subnet */
			if (addr_parse(buf, &src[*nr_src]) || !addr_is_single(&src[*nr_src]))
				return cni_error(c, CNI_ERR_CONFIG, NULL,
						 "prevResult: \"%s\" is not an address", a);
			(*nr_src)++;
		}
	}
	if (!*nr_src)
		return cni_error(c, CNI_ERR_CONFIG, NULL,
				 "prevResult gives no address of %s in %s (\"ips\"): the sandbox's "
				 "sources would be unknown",
				 c->at.ifname, c->at.netns);
	return 0;
}

static int cmd_add(struct cni_call *c)
{
	char cands[INSTANCE_MAX_POINTS][IF_NAMESIZE], profile[STATE_PATH_MAX];
	struct addr src[INSTANCE_MAX_SOURCES];
	struct json_object *prev;
	struct diag d = {};
	size_t nr_cands, nr_src;
	struct stat sb;
	int i, err;

	if (!json_object_object_get_ex(c->conf, "prevResult", &prev) ||
	    !json_object_is_type(prev, json_type_object))
		return cni_error(c, CNI_ERR_CONFIG, NULL,
				 "no prevResult: ironclaw-pipe is chained after an interface "
				 "plugin (bridge, ptp) in a conflist");
	err = pick_profile(c, profile, sizeof(profile));
	if (!err)
		err = read_prev(c, prev, cands, &nr_cands, src, &nr_src);
	if (err)
		return err;
	i = instance_cni_host_veth(c->at.netns, c->at.ifname, (const char(*)[IF_NAMESIZE])cands,
				   nr_cands, &d);
	if (i < 0) {
		err = cni_error(c, i == -ENXIO ? CNI_ERR_NO_HOST_VETH : CNI_ERR_NETNS, &d,
				i == -ENXIO ? "no host-side veth of %s in prevResult" :
					      "cannot find %s in the container's network namespace",
				c->at.ifname);
		diag_free(&d);
		return err;
	}
	snprintf(c->at.host_if, sizeof(c->at.host_if), "%s", cands[i]);
	c->at.host_ifindex = netns_ifindex(cands[i]);
	c->at.host_netns = stat("/proc/self/ns/net", &sb) ? 0 : sb.st_ino;
	err = instance_cni_profile_check(profile, &d);
	if (err) {
		err = cni_error(c, CNI_ERR_PROFILE, &d, "profile %s refused", profile);
		diag_free(&d);
		return err;
	}
	err = instance_cni_add(c->name, &c->at, profile, src, nr_src, &d);
	if (err) {
		err = cni_error(c, CNI_ERR_INSTALL, &d, "cannot install instance '%s' on %s",
				c->name, c->at.host_if);
		diag_free(&d);
		return err;
	}
	diag_print(&d, stderr); /* warnings */
	diag_free(&d);
	/* the result goes on as it came: this plugin adds no interface or address */
	printf("%s\n", json_object_to_json_string_ext(
			       prev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static int cmd_check(struct cni_call *c)
{
	struct diag d = {};
	int err = instance_cni_check(c->name, &c->at, &d);

	if (err)
		err = cni_error(c, CNI_ERR_LOST, &d, "instance '%s' of %s does not filter it",
				c->name, c->at.ifname);
	diag_free(&d);
	return err;
}

static int cmd_del(struct cni_call *c)
{
	struct diag d = {};
	int err = instance_cni_del(c->name, &d);

	if (err)
		err = cni_error(c, CNI_ERR_INSTALL, &d, "cannot remove instance '%s'", c->name);
	diag_free(&d);
	return err;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct cni_call c = { .command = getenv("CNI_COMMAND") };
	int err;

	libbpf_set_print(libbpf_print);
	xdp_set_verbose(false);
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("ironclaw-pipe CNI plugin %s, CNI spec 0.4.0, 1.0.0\n", IRONCLAW_VERSION);
		return 0;
	}
	if (!c.command || !*c.command)
		return cni_error(&c, CNI_ERR_ENV, NULL,
				 "CNI_COMMAND is not set: this is a CNI plugin, run by a container "
				 "runtime (ADD, CHECK, DEL, VERSION)");
	if (!strcmp(c.command, "VERSION")) {
		printf("{\"cniVersion\":\"%s\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}\n",
		       CNI_SPEC_LATEST);
		return 0;
	}
	if (strcmp(c.command, "ADD") && strcmp(c.command, "DEL") && strcmp(c.command, "CHECK"))
		return cni_error(&c, CNI_ERR_ENV, NULL,
				 "CNI_COMMAND '%s': ADD, CHECK, DEL or VERSION", c.command);
	if (geteuid())
		return cni_error(&c, CNI_ERR_INSTALL, NULL,
				 "must run as root (loading and attaching BPF programs)");
	err = read_conf(&c);
	if (!err)
		err = read_env(&c, strcmp(c.command, "DEL") != 0);
	if (!err && !strcmp(c.command, "ADD"))
		err = cmd_add(&c);
	else if (!err && !strcmp(c.command, "CHECK"))
		err = cmd_check(&c);
	else if (!err)
		err = cmd_del(&c);
	json_object_put(c.conf);
	return err;
}
