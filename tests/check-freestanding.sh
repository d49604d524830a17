#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Proves the core is freestanding: every core/*.c compiles with -ffreestanding
# -nostdinc (only the compiler's own headers), includes nothing else, and the
# objects reference no symbol outside an allow-list: the four memory functions
# the kernel also provides and the platform interface in core/platform.h.
set -eu
cd "$(dirname "$0")/.."
cc=${CC:-gcc}
inc=$($cc -print-file-name=include)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

allowed_headers='stddef.h stdint.h stdbool.h limits.h float.h immintrin.h'
for f in core/*.c core/*.h; do
	for h in $(sed -n 's/^#include <\([^>]*\)>.*/\1/p' "$f"); do
		case " $allowed_headers " in
		*" $h "*) ;;
		*) case "$h" in linux/*) ;;	# kernel build branch only
		   *) echo "$f includes <$h>, not a compiler-provided header"; fail=1;; esac ;;
		esac
	done
done

for f in core/*.c; do
	case $f in
	*_avx2.c) simd="-mavx2 -mfma -mf16c" ;;
	*_avx512.c) simd="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c" ;;
	*_avx512vnni.c) simd="-mavx512vnni -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c" ;;
	*) simd= ;;
	esac
	# shellcheck disable=SC2086 # $simd is a list of flags
	$cc -std=c11 -O2 -ffreestanding -nostdinc -isystem "$inc" $simd \
		-fno-math-errno -Icore -Iinclude -c "$f" \
		-o "$tmp/$(basename "$f" .c).o"
done

allow=$(printf 'memcpy\nmemset\nmemmove\nmemcmp\n'; \
	sed -n 's/.*\b\(lx_host_[a-z_]*\)(.*/\1/p' core/platform.h)
# Link the core into one relocatable object: what stays undefined is
# what the core needs from outside.
ld -r -o "$tmp/core.all" "$tmp"/*.o
nm -u "$tmp/core.all" | awk 'NF==2 {print $2}' | sort -u > "$tmp/used"
for sym in $(cat "$tmp/used"); do
	if ! printf '%s\n' "$allow" | grep -qx "$sym"; then
		echo "core references '$sym', which is neither a memory function nor in core/platform.h:"
		nm -A -u "$tmp"/*.o | grep -w "$sym" | sed 's|.*/||' | grep -v core.all
		fail=1
	fi
done
n=$(ls core/*.c | wc -l)
if [ $fail -eq 0 ]; then
	echo "freestanding: $n core files compile with -ffreestanding -nostdinc; external symbols:" $(cat "$tmp/used")
fi
exit $fail
