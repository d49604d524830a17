#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Packaging as Linux users expect it: DKMS builds llamux.ko from
# /usr/src/llamux-VERSION for an installed kernel's headers, and
# `make -C kernel install` installs the modules (staged into a scratch root).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
kdir=$(ls -d /usr/src/linux-headers-6.1.[0-9]*-amd64 | sort -V | tail -n 1)
kver=${kdir#/usr/src/linux-headers-}
fail() { echo "FAIL $*"; exit 1; }

if ! command -v dkms >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "dkms missing: sudo apt-get install dkms"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms >/dev/null 2>&1 ||
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dkms >/dev/null 2>&1; }
fi

src=/usr/src/llamux-$version
cleanup() {
	dkms remove -m llamux -v "$version" --all >/dev/null 2>&1 || true
	rm -rf "$src" "$stage"
}
stage=$(mktemp -d)
trap cleanup EXIT
cleanup
mkdir -p "$src"
cp -r dkms.conf kernel core include "$src/"
dkms add -m llamux -v "$version" >/dev/null
dkms build -m llamux -v "$version" -k "$kver" > "$stage.dkms.log" 2>&1 ||
	{ cat "$stage.dkms.log"; fail "dkms build for $kver"; }
built=$(find /var/lib/dkms/llamux/"$version"/"$kver" -name 'llamux.ko*' | head -n 1)
[ -n "$built" ] || fail "dkms build left no llamux.ko"
modinfo "$built" | grep -q "^vermagic: *$kver " || fail "dkms module has the wrong vermagic"
echo "PASS dkms-build ($kver: $built)"

# make -C kernel install, into a staging root.
rm -rf "$stage/src" && mkdir -p "$stage/src"
cp -r kernel core include "$stage/src/"
make -s -C "$stage/src/kernel" KDIR="$kdir" >/dev/null
make -s -C "$stage/src/kernel" KDIR="$kdir" INSTALL_MOD_PATH="$stage/root" \
	INSTALL_MOD_STRIP=1 install > "$stage.install.log" 2>&1 ||
	{ cat "$stage.install.log"; fail "make install"; }
ko=$(find "$stage/root/lib/modules/$kver" -name 'llamux.ko*' | head -n 1)
[ -n "$ko" ] || fail "make install put no llamux.ko under lib/modules/$kver"
grep -q 'llamux.ko' "$stage/root/lib/modules/$kver/modules.dep" || fail "depmod did not index llamux"
echo "PASS make-install ($ko)"
rm -f "$stage.dkms.log" "$stage.install.log"
