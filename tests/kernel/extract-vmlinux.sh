#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Extracts the uncompressed ELF vmlinux from an x86 bzImage (Debian's vmlinuz),
# so QEMU can boot it directly through its PVH entry note.
#   extract-vmlinux.sh BZIMAGE OUT
# The compressed payload is located with the boot protocol header
# (payload_offset/payload_length) and identified by its magic (xz, zstd,
# gzip, lzma, lz4, bzip2, lzo); if the header does not lead to a known magic,
# the image is scanned for each magic instead. The result must be an ELF file.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BZIMAGE OUT" >&2
	exit 2
fi
img=$1
out=$2
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

# u8/u32 little-endian field of the image at byte offset $1
u8() { od -An -tu1 -j "$1" -N1 "$img" | tr -d ' \n'; }
u32() {
	od -An -tu1 -j "$1" -N4 "$img" |
		awk '{ print $1 + 256 * ($2 + 256 * ($3 + 256 * $4)) }'
}
hexat() { od -An -tx1 -j "$1" -N "$2" "$img" | tr -d ' \n'; }

is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]; }

# name of the compression whose magic starts at offset $1, or nothing
magic_at() {
	m=$(hexat "$1" 6)
	case $m in
	fd377a585a00*) echo xz ;;
	28b52ffd*) echo zstd ;;
	1f8b08* | 1f8b09*) echo gzip ;;
	5d0000*) echo lzma ;;
	02214c18*) echo lz4 ;;
	425a68*) echo bzip2 ;;
	894c5a*) echo lzo ;;
	esac
}

# decompress LEN bytes (all to the end if empty) at offset OFF with method M
# into $tmp; the kernel appends the uncompressed size after the stream, and
# some tools then complain about trailing data, so only the result is judged
try() {
	off=$1 len=$2 m=$3
	case $m in
	xz) cmd="xz -dc --single-stream" ;;
	zstd) cmd="zstd -dc -q" ;;
	gzip) cmd="gzip -dc -q" ;;
	lzma) cmd="xz -dc --format=lzma" ;;
	lz4) cmd="lz4 -dc" ;;
	bzip2) cmd="bzip2 -dc -q" ;;
	lzo) cmd="lzop -dc -q" ;;
	esac
	if ! command -v "${cmd%% *}" >/dev/null; then
		echo "extract-vmlinux: the payload is $m-compressed but '${cmd%% *}' is not installed" >&2
		return 1
	fi
	if [ -n "$len" ]; then
		# zstd rejects the 4-byte size trailer inside the payload; drop it
		[ "$m" = zstd ] && len=$((len - 4))
		tail -c +$((off + 1)) "$img" | head -c "$len" | $cmd >"$tmp" 2>/dev/null || true
	else
		tail -c +$((off + 1)) "$img" | $cmd >"$tmp" 2>/dev/null || true
	fi
	is_elf "$tmp"
}

done_ok() {
	mv -f "$tmp" "$out"
	echo "extract-vmlinux: $img: $1-compressed payload at offset $2 -> $out" >&2
	exit 0
}

# 1. the boot protocol header: "HdrS" at 0x202, version >= 2.08 for payload_*
if [ "$(hexat 514 4)" = 48647253 ]; then
	ver=$(od -An -tu2 -j 518 -N2 "$img" | tr -d ' ')
	setup_sects=$(u8 497)
	[ "$setup_sects" -eq 0 ] && setup_sects=4
	if [ "$ver" -ge 520 ]; then
		off=$(( (setup_sects + 1) * 512 + $(u32 584) ))
		len=$(u32 588)
		m=$(magic_at "$off")
		if [ -n "$m" ] && try "$off" "$len" "$m"; then
			done_ok "$m" "$off"
		fi
	fi
fi

# 2. scan for every known magic, in order of appearance per method
for spec in xz:fd377a585a00 zstd:28b52ffd gzip:1f8b08 lzma:5d000000 bzip2:425a68 lz4:02214c18 lzo:894c5a; do
	m=${spec%%:*}
	pat=$(echo "${spec#*:}" | sed 's/../\\x&/g')
	for off in $(LC_ALL=C grep -obUaP "$pat" "$img" 2>/dev/null | cut -d: -f1 | head -n 20); do
		if try "$off" "" "$m"; then
			done_ok "$m" "$off"
		fi
	done
done

echo "extract-vmlinux: no compressed ELF kernel found in $img" >&2
exit 1
