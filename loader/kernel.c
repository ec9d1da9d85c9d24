/* kernel.c: what the running kernel must have, checked before a command loads anything. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "kernel.h"
#include "tc_classic.h"

int kernel_check(const char *cmd, FILE *out)
{
	struct utsname u;
	char why[160];
	enum tc_attach_mode mode;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(out,
			"ironclaw-pipe %s: kernel BTF missing (/sys/kernel/btf/vmlinux): a kernel "
			"built with CONFIG_DEBUG_INFO_BTF is needed\n",
			cmd);
		return 1;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, NULL) != 1) {
		fprintf(out,
			"ironclaw-pipe %s: kernel %s lacks the bpf_loop helper (needs 5.17 or "
			"later; Debian 12's own 6.1 has it)\n",
			cmd, u.release);
		return 1;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1 ||
	    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) != 1) {
		fprintf(out,
			"ironclaw-pipe %s: kernel %s lacks BPF ring buffers or socket-local "
			"storage (5.8 or later, CONFIG_BPF_SYSCALL)\n",
			cmd, u.release);
		return 1;
	}
	if (tc_attach_mode(&mode, why, sizeof(why))) {
		fprintf(out, "ironclaw-pipe %s: %s\n", cmd, why);
		return 1;
	}
	return 0;
}
