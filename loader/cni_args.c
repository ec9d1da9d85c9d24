/* cni_args.c: what the CNI plugin derives from its input: instance names, CNI_ARGS, the profile. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cni_args.h"
#include "sha256.h"

int cni_instance_name(const char *network, const char *container, const char *ifname, char *out,
		      size_t len)
{
	const char *parts[] = { network, container, ifname };
	uint8_t md[SHA256_LEN];
	struct sha256 s;
	size_t n = strlen(CNI_INSTANCE_PREFIX);

	if (len < n + CNI_NAME_HEX + 1)
		return -ENAMETOOLONG;
	sha256_init(&s);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		sha256_update(&s, parts[i], strlen(parts[i]) + 1); /* with its NUL: no ambiguity */
	sha256_final(&s, md);
	memcpy(out, CNI_INSTANCE_PREFIX, n);
	for (int i = 0; i < CNI_NAME_HEX / 2; i++)
		snprintf(out + n + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool cni_instance_name_is(const char *name)
{
	size_t n = strlen(CNI_INSTANCE_PREFIX);

	return !strncmp(name, CNI_INSTANCE_PREFIX, n) && strlen(name) == n + CNI_NAME_HEX &&
	       strspn(name + n, "0123456789abcdef") == CNI_NAME_HEX;
}

int cni_args_get(const char *args, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = args; p && *p;) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			n -= klen + 1;
			if (n >= len)
				return -ENAMETOOLONG;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

bool cni_k8s_namespace_valid(const char *ns)
{
	size_t n = strlen(ns);

	return n > 0 && n < CNI_K8S_NS_MAX &&
	       strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && ns[0] != '-' &&
	       ns[n - 1] != '-';
}

static bool is_dir(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

int cni_profile_pick(const char *dir, const char *ns, char *out, size_t len)
{
	int n;

	if (ns && !cni_k8s_namespace_valid(ns))
		return -EINVAL;
	if (ns) {
		n = snprintf(out, len, "%s/%s", dir, ns);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (is_dir(out))
			return 0;
	}
	n = snprintf(out, len, "%s/default", dir);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return is_dir(out) ? 0 : -ENOENT;
}
