#!/bin/sh
# Turn a staged install tree into a Debian binary package.
#
#   sh tools/mkdeb.sh ROOT VERSION ARCH OUT.deb
#
# ROOT is what `make install PREFIX=/usr DESTDIR=ROOT` laid out (the `deb`
# target of the Makefile does that first). This script applies Debian policy
# to it (stripped binaries, gzip -9n man pages and long docs, copyright,
# changelog), writes DEBIAN/{control,conffiles,md5sums} and runs
# dpkg-deb --root-owner-group --build. Depends comes from dpkg-shlibdeps, so
# it names the runtime packages of the libraries the binaries really link.
#
# spex is its own upstream, so the package is native (no Debian revision) and
# its changelog is usr/share/doc/spex/changelog.gz, as policy 12.7 and lintian
# want for native packages. Timestamps come from SOURCE_DATE_EPOCH, else from
# the last commit, so the same tree gives the same .deb.
set -eu

if [ $# -ne 4 ]; then
	echo "usage: $0 ROOT VERSION ARCH OUT.deb" >&2
	exit 2
fi
root=$(cd "$1" && pwd)
version=$2
arch=$3
out=$4
top=$(cd "$(dirname "$0")/.." && pwd)
maintainer=${DEB_MAINTAINER:-"spex maintainers <maintainers@users.noreply.r-seed-c315f2c2.example>"}
doc=$root/usr/share/doc/spex

for f in usr/bin/spex-executor usr/bin/spex usr/libexec/spex/mesos-executor; do
	if [ ! -e "$root/$f" ]; then
		echo "mkdeb: $root/$f missing (run make install DESTDIR=$root PREFIX=/usr first)" >&2
		exit 1
	fi
done

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# Binaries: no debug info, no .comment (what dh_strip does).
for f in "$root"/usr/bin/*; do
	[ -L "$f" ] && continue
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
done

# Man pages and documentation over 4 KiB are compressed (policy 12.1, 12.3).
if [ -d "$root/usr/share/man" ]; then
	find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +
fi
find "$doc" -maxdepth 1 -type f -size +4k ! -name '*.gz' -exec gzip -9nf {} +

cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: spex
Source: the spex git repository

Files: *
Copyright: $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y) spex maintainers
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License");
 you may not use this file except in compliance with the License.
 You may obtain a copy of the License at
 .
 http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS,
 WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 See the License for the specific language governing permissions and
 limitations under the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".
EOF

cat >"$doc/changelog" <<EOF
spex ($version) unstable; urgency=medium

  * Release $version: see the git history of spex for the changes.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
gzip -9nf "$doc/changelog"

# Permissions as policy 10.9 wants them, whatever the umask was.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root"/usr/bin/*

# Depends: dpkg-shlibdeps wants a debian/control next to it and the
# binaries under debian/<package>/.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian/spex/DEBIAN" "$tmp/debian/spex/usr/bin"
printf 'Source: spex\n\nPackage: spex\nArchitecture: any\n' >"$tmp/debian/control"
cp "$root/usr/bin/spex-executor" "$root/usr/bin/spex" "$tmp/debian/spex/usr/bin/"
(cd "$tmp" && dpkg-shlibdeps -O -edebian/spex/usr/bin/spex-executor -edebian/spex/usr/bin/spex) \
	>"$tmp/shlibs"
depends=$(sed -n 's/^shlibs:Depends=//p' "$tmp/shlibs")
if [ -z "$depends" ]; then
	echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2
	exit 1
fi

# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up;
# 1 for each directory and symlink.
size=$(find "$root" -path "$root/DEBIAN" -prune -o ! -path "$root" -printf '%y %s\n' |
	awk '$1 == "f" { n += int(($2 + 1023) / 1024); next } { n += 1 } END { print n }')

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: spex
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Description: native Mesos executor for Apache Spark
 spex is a Mesos v1 HTTP executor, written in C, that runs Apache Spark's
 executor JVMs as Mesos tasks. It is a drop-in replacement for the agent's
 command executor (mesos-executor): argv and environment reach the JVM
 unchanged, kills reach the whole process tree, and nothing is orphaned if
 the executor dies.
 .
 Each task gets its own cgroup with memory, cpu and pid limits, and an OOM
 kill is reported with the limit, the peak and the Spark setting to raise.
 The sandbox's disk usage is reported by Spark category (shuffle, cached
 blocks, temp dirs, distribution, logs), disk limits are enforced, and
 Spark's scratch directories are removed when the task ends.
 .
 The package has spex-executor, the mesos-executor drop-in under
 /usr/libexec/spex for the agent's --launcher_dir, and the spex tool for
 operators.
EOF

if [ -d "$root/etc" ]; then
	(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
	[ -s "$root/DEBIAN/conffiles" ] || rm -f "$root/DEBIAN/conffiles"
fi

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs -d '\n' md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root"/DEBIAN/*

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out"
