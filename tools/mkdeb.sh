#!/bin/sh
# mkdeb.sh BUILD VERSION: the Debian package of what 'make install PREFIX=/usr' installs, built
# with dpkg-deb; its Depends are the packages of the libraries the binary links (at least the
# versions built against). Prints the package's path.
set -eu
DEB_MAINTAINER=${DEB_MAINTAINER:-ironclaw-pipe authors <ironclaw-pipe@localhost>}
B=$1
VERSION=$2
ARCH=$(dpkg --print-architecture)
ROOT=$B/deb/root
DEB=$B/deb/ironclaw-pipe_${VERSION}_$ARCH.deb

rm -rf "$B/deb"
mkdir -p "$ROOT/DEBIAN"
make --no-print-directory install DESTDIR="$ROOT" PREFIX=/usr UNITDIR=/lib/systemd/system \
	>/dev/null

# the package of a library path (with usrmerge, dpkg knows one of /lib and /usr/lib)
lib_package() {
	dpkg -S "$1" 2>/dev/null || dpkg -S "/usr$1" 2>/dev/null || dpkg -S "${1#/usr}" 2>/dev/null
}
depends=
for lib in $(ldd "$B/ironclaw-pipe" "$B/cni/ironclaw-pipe" 2>/dev/null | awk '$3 ~ /^\// { print $3 }' | sort -u); do
	pkg=$(lib_package "$lib" | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || { echo "mkdeb: no package holds $lib" >&2; exit 1; }
	case ",$depends," in *", $pkg "*|*",$pkg "*) continue ;; esac
	ver=$(dpkg-query -W -f='${Version}' "$pkg")
	depends="${depends:+$depends, }$pkg (>= ${ver%-*})" # the upstream version built against
done

# as Debian ships them: man pages compressed, the binary without its debug sections
gzip -9n "$ROOT"/usr/share/man/man*/*
strip --strip-unneeded "$ROOT/usr/sbin/ironclaw-pipe"

DOC=$ROOT/usr/share/doc/ironclaw-pipe
mkdir -p "$DOC"
cat >"$DOC/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ironclaw-pipe

Files: *
Copyright: 2026 the ironclaw-pipe authors
License: GPL-2
 On Debian systems, the full text of the GNU General Public License version 2
 can be found in /usr/share/common-licenses/GPL-2.
COPYRIGHT
printf 'ironclaw-pipe (%s) unstable; urgency=medium\n\n  * Package of the build.\n\n -- %s  %s\n' \
	"$VERSION" "$DEB_MAINTAINER" "$(date -R)" | gzip -9n >"$DOC/changelog.gz"
# stage objects are BPF, not the host's architecture: that is what they are
mkdir -p "$ROOT/usr/share/lintian/overrides"
cat >"$ROOT/usr/share/lintian/overrides/ironclaw-pipe" <<OVERRIDES
# BPF programs (ELF for the BPF virtual machine) that the kernel verifies and runs
ironclaw-pipe: binary-from-other-architecture [usr/lib/ironclaw-pipe/*]
OVERRIDES

find "$ROOT/etc" -type f 2>/dev/null | sed "s|^$ROOT||" | sort >"$ROOT/DEBIAN/conffiles"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
	sed 's|^\./||' | sort | xargs md5sum) >"$ROOT/DEBIAN/md5sums"
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: ironclaw-pipe
Version: $VERSION
Architecture: $ARCH
Maintainer: $DEB_MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Depends: $depends
Recommends: iproute2
Suggests: containernetworking-plugins
Section: net
Priority: optional
Homepage: https://example.invalid/ironclaw-pipe
Description: egress firewall for sandboxes: a tail-call pipeline of BPF stages
 Judges everything a sandbox sends at tc, XDP and cgroup hooks: a dispatcher
 parses each packet once and tail-calls the stage (DNS, HTTPS, internal
 services, plug-ins) that holds its rules. Per-tool rules, DNS name rules,
 live edits, a deny log, a service that restores policy at boot, and a CNI
 plugin.
CONTROL
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/md5sums" "$ROOT/DEBIAN/conffiles"
dpkg-deb --root-owner-group --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
