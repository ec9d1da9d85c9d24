/* cni_args.h: what the CNI plugin derives from its input: instance names, CNI_ARGS, the profile. */
#ifndef IRONCLAW_CNI_ARGS_H
#define IRONCLAW_CNI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define CNI_INSTANCE_PREFIX "cni-"
#define CNI_NAME_HEX 16 /* hex digits of the digest in a name */
/* a Kubernetes namespace name is a DNS label: at most 63 characters */
#define CNI_K8S_NS_MAX 64

/*
 * The instance of one attachment: "cni-" and the first 16 hex digits of
 * SHA-256(network NUL container-id NUL ifname NUL). 0, or -ENAMETOOLONG when
 * len is too short.
 */
int cni_instance_name(const char *network, const char *container, const char *ifname, char *out,
		      size_t len);
/* name is one cni_instance_name makes: "cni-" and 16 lowercase hex digits */
bool cni_instance_name_is(const char *name);
/*
 * The value of key in CNI_ARGS ("K1=V1;K2=V2"), copied to out. 0, -ENOENT
 * when absent, -ENAMETOOLONG when it does not fit.
 */
int cni_args_get(const char *args, const char *key, char *out, size_t len);
/* a Kubernetes namespace name: 1-63 of [a-z0-9-], starting and ending alphanumeric */
bool cni_k8s_namespace_valid(const char *ns);
/*
 * The profile for pods of namespace ns (NULL: none given) under dir:
 * dir/ns when that directory exists, else dir/default. 0, or -ENOENT when
 * neither exists (-EINVAL: ns is no namespace name).
 */
int cni_profile_pick(const char *dir, const char *ns, char *out, size_t len);

#endif
