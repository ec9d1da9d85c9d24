#!/bin/sh
# ironclaw-node.sh: what the DaemonSet's containers do on each node (README.md, "Use it with containers").
#
#   ironclaw-node.sh install           the binaries onto the node, then 'conflist' on its CNI config
#   ironclaw-node.sh conflist FILE     adds ironclaw-pipe at the end of the chain in FILE (once)
#   ironclaw-node.sh sync SRC DEST     ConfigMap keys NAMESPACE.FILE in SRC become DEST/NAMESPACE/FILE
#   ironclaw-node.sh run               sync every SYNC_SECONDS, and 'ironclaw-pipe gc'
#
# Settings (environment): HOST_ROOT (the node's / as mounted, default /host), CNI_CONF_DIR
# (/etc/cni/net.d), CNI_BIN_DIR (/opt/cni/bin), PROFILES_DIR (/etc/ironclaw-pipe/k8s: where the
# plugin reads profiles, on the node), PROFILES_SRC (/profiles: the ConfigMap's volume),
# SYNC_SECONDS (30). Needs jq.
set -eu

HOST_ROOT=${HOST_ROOT:-/host}
CNI_CONF_DIR=${CNI_CONF_DIR:-/etc/cni/net.d}
CNI_BIN_DIR=${CNI_BIN_DIR:-/opt/cni/bin}
PROFILES_DIR=${PROFILES_DIR:-/etc/ironclaw-pipe/k8s}
PROFILES_SRC=${PROFILES_SRC:-/profiles}
SYNC_SECONDS=${SYNC_SECONDS:-30}
PLUGIN_SRC=${PLUGIN_SRC:-/opt/cni/bin/ironclaw-pipe}
CLI_SRC=${CLI_SRC:-$(command -v ironclaw-pipe || echo /usr/sbin/ironclaw-pipe)}

die() {
	echo "ironclaw-node: $*" >&2
	exit 1
}

# conflist FILE: ironclaw-pipe last in the chain, reading profiles per namespace; atomic, idempotent
conflist() {
	f=$1
	[ -f "$f" ] || die "$f: no such conflist"
	case $f in *.conflist) ;; *) die "$f: not a .conflist (a single .conf has no chain to join)" ;; esac
	jq -e '.plugins | type == "array" and length > 0' "$f" >/dev/null ||
		die "$f: no \"plugins\" list"
	if jq -e '[.plugins[].type] | index("ironclaw-pipe")' "$f" >/dev/null; then
		echo "ironclaw-node: $f already chains ironclaw-pipe"
		return 0
	fi
	jq --arg dir "$PROFILES_DIR" '.plugins += [{type: "ironclaw-pipe", profiles: $dir}]' "$f" \
		>"$f.ironclaw.tmp" || die "$f: cannot rewrite it"
	mv "$f.ironclaw.tmp" "$f"
	echo "ironclaw-node: $f chains ironclaw-pipe (profiles in $PROFILES_DIR)"
}

# the conflist the runtime uses: the first in name order (as containerd, CRI-O and the kubelet pick)
node_conflist() {
	for f in "$HOST_ROOT$CNI_CONF_DIR"/*.conflist; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 1
}

install_node() {
	install -D -m 0755 "$PLUGIN_SRC" "$HOST_ROOT$CNI_BIN_DIR/ironclaw-pipe"
	install -D -m 0755 "$CLI_SRC" "$HOST_ROOT/usr/local/sbin/ironclaw-pipe"
	# the plugin runs on the node, with the node's libraries
	if [ -x "$HOST_ROOT/usr/bin/ldd" ] && chroot "$HOST_ROOT" ldd "$CNI_BIN_DIR/ironclaw-pipe" | grep -q "not found"; then
		die "the node lacks libraries of the plugin: $(chroot "$HOST_ROOT" ldd "$CNI_BIN_DIR/ironclaw-pipe" | grep 'not found' | tr -s ' \t\n' ' ')(apt-get install libbpf1 libxdp1 libjson-c5 on the node)"
	fi
	mkdir -p "$HOST_ROOT$PROFILES_DIR"
	chmod 0755 "$HOST_ROOT$PROFILES_DIR"
	f=$(node_conflist) || die "no *.conflist in $HOST_ROOT$CNI_CONF_DIR: install the network plugin first"
	conflist "$f"
}

# sync SRC DEST: real files, root's, 0644 (the plugin refuses symlinks and writable files; a
# ConfigMap volume is made of symlinks); namespaces no longer in SRC are removed
sync_profiles() {
	src=$1 dest=$2
	[ -d "$src" ] || die "$src: no such directory"
	new=$(mktemp -d "$dest.new.XXXXXX")
	chmod 0755 "$new"
	for f in "$src"/*; do
		[ -f "$f" ] || continue
		key=${f##*/}
		ns=${key%%.*}
		file=${key#*.}
		case $ns in '' | *[!a-z0-9-]*) echo "ironclaw-node: key $key: not NAMESPACE.FILE, skipped" >&2; continue ;; esac
		[ "$file" != "$key" ] && [ -n "$file" ] || { echo "ironclaw-node: key $key: not NAMESPACE.FILE, skipped" >&2; continue; }
		mkdir -p "$new/$ns"
		chmod 0755 "$new/$ns"
		cat "$f" >"$new/$ns/$file"
		chmod 0644 "$new/$ns/$file"
	done
	mkdir -p "$dest"
	for d in "$new"/*; do
		[ -d "$d" ] || continue
		ns=${d##*/}
		rm -rf "$dest/$ns.old"
		[ -d "$dest/$ns" ] && mv "$dest/$ns" "$dest/$ns.old"
		mv "$d" "$dest/$ns"
		rm -rf "$dest/$ns.old"
	done
	for d in "$dest"/*; do
		[ -d "$d" ] || continue
		ns=${d##*/}
		ls "$src/$ns".* >/dev/null 2>&1 || rm -rf "$d"
	done
	rmdir "$new" 2>/dev/null || rm -rf "$new"
}

case ${1:-} in
install) install_node ;;
conflist) conflist "${2:?conflist FILE}" ;;
sync) sync_profiles "${2:?sync SRC DEST}" "${3:?sync SRC DEST}" ;;
run)
	while :; do
		sync_profiles "$PROFILES_SRC" "$HOST_ROOT$PROFILES_DIR"
		ironclaw-pipe gc | grep -v '^gc: 0 ' || true
		sleep "$SYNC_SECONDS"
	done
	;;
*) sed -n '2,13p' "$0"; exit 2 ;;
esac
