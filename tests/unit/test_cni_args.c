/* test_cni_args.c: SHA-256 against the FIPS 180-4 examples, CNI instance names, CNI_ARGS, profiles. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cni_args.h"
#include "sha256.h"
#include "../tmp_tree.h"

static void hex(const uint8_t *md, char *out)
{
	for (int i = 0; i < SHA256_LEN; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void digest_is(const void *data, size_t len, const char *want)
{
	uint8_t md[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];

	sha256(data, len, md);
	hex(md, got);
	cr_assert_str_eq(got, want, "SHA-256 of %zu bytes", len);
}

/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf") */
Test(sha256, fips_vectors)
{
	digest_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* two blocks of padding: 112 bytes */
	digest_is("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, a_million_a_in_uneven_pieces)
{
	uint8_t md[SHA256_LEN], chunk[997];
	char got[2 * SHA256_LEN + 1];
	struct sha256 s;
	size_t left = 1000000;

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

		sha256_update(&s, chunk, n);
		left -= n;
	}
	sha256_final(&s, md);
	hex(md, got);
	cr_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(cni_args, instance_name_is_short_and_tells_attachments_apart)
{
	const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char a[32], b[32], c[32], d[32];
	uint8_t md[SHA256_LEN];
	char want[2 * SHA256_LEN + 1];

	cr_assert_eq(cni_instance_name("net1", id, "eth0", a, sizeof(a)), 0);
	cr_assert_eq(strlen(a), 20);
	cr_assert(cni_instance_name_is(a), "%s", a);
	/* the digest of the three strings, each with its NUL */
	sha256("net1\0"
	       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\0eth0",
	       5 + 65 + 5, md);
	hex(md, want);
	cr_assert_eq(strncmp(a + 4, want, 16), 0, "%s vs %s", a, want);
	cni_instance_name("net1", id, "eth1", b, sizeof(b));
	cni_instance_name("net2", id, "eth0", c, sizeof(c));
	/* the separators keep ("net1", "x...") and ("net1x", "...") apart */
	cni_instance_name("net", "1", "eth0", d, sizeof(d));
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cni_instance_name("net1", "", "eth0", b, sizeof(b));
	cr_assert_str_neq(b, d);
	cr_assert_eq(cni_instance_name("n", id, "eth0", a, 20), -ENAMETOOLONG);
	cr_assert_not(cni_instance_name_is("cni-0123"));
	cr_assert_not(cni_instance_name_is("cni-0123456789ABCDEF"));
	cr_assert_not(cni_instance_name_is("default"));
}

Test(cni_args, cni_args_values)
{
	char v[64];

	cr_assert_eq(cni_args_get("IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0",
				  "K8S_POD_NAMESPACE", v, sizeof(v)),
		     0);
	cr_assert_str_eq(v, "team-a");
	cr_assert_eq(cni_args_get("K8S_POD_NAMESPACE=x", "K8S_POD_NAMESPACE", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "x");
	cr_assert_eq(cni_args_get("K8S_POD_NAMESPACEX=y;A=b", "K8S_POD_NAMESPACE", v, sizeof(v)),
		     -ENOENT);
	cr_assert_eq(cni_args_get("", "K8S_POD_NAMESPACE", v, sizeof(v)), -ENOENT);
	cr_assert_eq(cni_args_get(NULL, "K8S_POD_NAMESPACE", v, sizeof(v)), -ENOENT);
	cr_assert_eq(cni_args_get("K=0123456789", "K", v, 4), -ENAMETOOLONG);
}

Test(cni_args, namespace_names)
{
	cr_assert(cni_k8s_namespace_valid("default"));
	cr_assert(cni_k8s_namespace_valid("team-a"));
	cr_assert_not(cni_k8s_namespace_valid(""));
	cr_assert_not(cni_k8s_namespace_valid(".."));
	cr_assert_not(cni_k8s_namespace_valid("a/b"));
	cr_assert_not(cni_k8s_namespace_valid("-a"));
	cr_assert_not(cni_k8s_namespace_valid("Team"));
}

Test(cni_args, profile_per_namespace_else_default)
{
	char root[256], path[512], out[600];

	tmp_tree_make(root, sizeof(root), "cni-profiles");
	snprintf(path, sizeof(path), "%s/team-a", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	/* no default yet: a namespace without its own profile has none */
	cr_assert_eq(cni_profile_pick(root, "team-b", out, sizeof(out)), -ENOENT);
	cr_assert_eq(cni_profile_pick(root, NULL, out, sizeof(out)), -ENOENT);
	cr_assert_eq(cni_profile_pick(root, "team-a", out, sizeof(out)), 0);
	cr_assert_str_eq(out, path);
	snprintf(path, sizeof(path), "%s/default", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(cni_profile_pick(root, "team-b", out, sizeof(out)), 0);
	cr_assert_str_eq(out, path);
	cr_assert_eq(cni_profile_pick(root, NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, path);
	cr_assert_eq(cni_profile_pick(root, "../etc", out, sizeof(out)), -EINVAL);
	tmp_tree_remove(root);
}
