#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Fetches the kernel's scripts/checkpatch.pl with its data files
# (spelling.txt, const_structs.checkpatch) from Debian's linux-source-6.1
# package, caches them in build-kernel/checkpatch/ and prints the path of
# checkpatch.pl. Use it as:
#   perl "$(tests/kernel/get-checkpatch.sh)" --no-tree -f kernel/main.c
# Options: --source PACKAGE (default linux-source-6.1), --force (fetch again).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${LLAMUX_KERNEL_CACHE:-$top/build-kernel}/checkpatch
pkg=linux-source-6.1
force=0
while [ $# -gt 0 ]; do
	case $1 in
	--source) [ $# -ge 2 ] || { echo "$0: --source needs a package name" >&2; exit 2; }
		pkg=$2; shift ;;
	--force) force=1 ;;
	-h | --help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$0: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

files="checkpatch.pl spelling.txt const_structs.checkpatch"
have=1
for f in $files; do
	[ -s "$dir/$f" ] || have=0
done
if [ $have = 1 ] && [ $force = 0 ]; then
	echo "$dir/checkpatch.pl"
	exit 0
fi

# tools: perl runs it; tar and xz unpack the source tarball
missing=
command -v perl >/dev/null || missing="$missing perl"
command -v xz >/dev/null || missing="$missing xz-utils"
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "$0: install:$missing" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "get-checkpatch: downloading $pkg" >&2
# as root, apt warns that the download is unsandboxed: harmless
if ! (cd "$tmp" && apt-get download -q "$pkg") >"$tmp/apt.log" 2>&1; then
	apt-get update -qq >/dev/null 2>&1 || true
	if ! (cd "$tmp" && apt-get download -q "$pkg") >"$tmp/apt.log" 2>&1; then
		grep -v unsandboxed "$tmp/apt.log" >&2
		echo "$0: could not download $pkg" >&2
		exit 1
	fi
fi
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/pkg"
tarball=$(find "$tmp/pkg/usr/src" -name 'linux-source-*.tar.*' | head -n 1)
[ -n "$tarball" ] || { echo "$0: no source tarball in $pkg" >&2; exit 1; }

echo "get-checkpatch: extracting from ${tarball##*/}" >&2
mkdir -p "$tmp/src"
tar -xf "$tarball" -C "$tmp/src" --wildcards \
	'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
for f in $files; do
	src=$(find "$tmp/src" -path "*/scripts/$f" | head -n 1)
	[ -n "$src" ] || { echo "$0: $f is not in ${tarball##*/}" >&2; exit 1; }
	cp "$src" "$dir/$f"
done
chmod 755 "$dir/checkpatch.pl"
echo "${tarball##*/} from $pkg $(dpkg-deb -f "$tmp"/"$pkg"_*.deb Version)" >"$dir/SOURCE"
echo "$dir/checkpatch.pl"
