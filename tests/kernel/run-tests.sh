#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Builds llamux.ko and the sample client against one of Debian's kernels (in
# a copy of the sources under build-kernel/, so builds for different kernels
# never mix), builds the guest-side device test, and boots that kernel in
# QEMU with all guest scripts (tests/kernel/qemu-test.sh). Extra arguments go
# to qemu-test.sh.
#   run-tests.sh [--kver 6.1|6.12] [--quick] [qemu-test.sh options...]
# --quick runs only the module and one greedy check (for -cpu qemu64).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

series=6.1
quick=0
pass=()
while [ $# -gt 0 ]; do
	case $1 in
	--kver) series=$2; shift ;;
	--quick) quick=1 ;;
	*) pass+=("$1") ;;
	esac
	shift
done

say() { echo "run-tests: $*"; }
die() { echo "run-tests: error: $*" >&2; exit 1; }

find_kver() {
	local d
	for d in /usr/src/linux-headers-"$1".*-amd64 /usr/src/linux-headers-"$1"-*-amd64 \
		/usr/src/linux-headers-"$1"; do
		[ -d "$d" ] && echo "${d#/usr/src/linux-headers-}"
	done | sort -V | tail -n 1
}

kver=$(find_kver "$series")
if [ -z "$kver" ]; then
	[ "$(id -u)" = 0 ] || die "no linux-headers for $series; run: sudo apt-get install linux-headers-amd64 linux-headers-6.12-amd64"
	if [ "$series" = 6.1 ]; then pkg=linux-headers-amd64; else pkg=linux-headers-$series-amd64; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg"; }
	kver=$(find_kver "$series")
	[ -n "$kver" ] || die "no linux-headers for $series after installing $pkg"
fi
kdir=/usr/src/linux-headers-$kver
work=$top/build-kernel/$kver
say "kernel $kver"

# The module, from a copy of the tree: kernel/ builds ../core in place.
rm -rf "$work/src"
mkdir -p "$work/src" "$work/extra"
cp -r kernel core include "$work/src/"
make -s -C "$work/src/kernel" KDIR="$kdir" > "$work/build.log" 2>&1 ||
	{ cat "$work/build.log"; die "module build failed against $kdir"; }
if grep -E "warning:|error:" "$work/build.log"; then
	die "the module build printed warnings (see above)"
fi
say "built llamux.ko and llamux_sample.ko without warnings"

# Guest extras: the device test (run as /tests/30-devtest), fuzz seeds as
# model files for the refusal checks.
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$top/include" \
	"$here/devtest.c" -lpthread -o "$work/extra/30-devtest"
args=(--kver "$kver" --module "$work/src/kernel/llamux.ko"
	--module "$work/src/kernel/sample/llamux_sample.ko"
	--model ../shared/models/phi2-q4_0.gguf
	--model ../shared/models/qwen2-q4_0.gguf)
if [ $quick = 1 ]; then
	args+=(--no-default-scripts --guest-script "$here/guest/lib.sh"
		--guest-script "$here/guest/10-module.sh"
		--guest-script "$here/guest/20-greedy.sh"
		--env LLAMUX_GREEDY_MODELS=tiny-q4_0.gguf
		--env LLAMUX_FAMILY_MODELS=qwen2-q4_0.gguf)
else
	args+=(--guest-script "$work/extra/30-devtest")
	for s in fuzz/seeds/*.gguf; do
		cp "$s" "$work/extra/seed-$(basename "$s")"
		args+=(--model "$work/extra/seed-$(basename "$s")")
	done
fi
exec "$here/qemu-test.sh" "${args[@]}" ${pass[@]+"${pass[@]}"}
