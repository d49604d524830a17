#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Makes sure the Debian packages a make target needs are installed: installs
# them with apt-get when run as root, otherwise prints the exact apt line.
#   scripts/deps.sh build   compiler, CMake, libedit and libcurl (make run)
#   scripts/deps.sh check   plus clang (libFuzzer, sanitizers), kernel headers,
#                           DKMS and QEMU for the kernel module (make check)
set -eu
need="gcc libc6-dev make cmake binutils libedit-dev libcurl4-openssl-dev pkg-config libmicrohttpd-dev libjson-c-dev libsystemd-dev"
case "${1:-build}" in
build) ;;
check) need="$need curl nginx dbus dbus-daemon dbus-bin libglib2.0-bin libxml2-utils groff-base polkitd nodejs clang libclang-rt-14-dev linux-headers-amd64 linux-headers-6.12-amd64 dkms qemu-system-x86 busybox-static cpio kmod xz-utils zstd perl" ;;
*) echo "usage: $0 build|check" >&2; exit 2 ;;
esac

missing=""
for p in $need; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "llamux needs these Debian packages:$missing" >&2
	echo "install them with:  sudo apt-get install$missing" >&2
	exit 1
fi
