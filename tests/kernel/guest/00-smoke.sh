#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Guest smoke test of the kernel-test image: the expected kernel is running,
# /proc, /sys and /dev are mounted, the CPU model is the one asked for, and the
# llamux program runs (--version, then a short greedy generation when
# stories260K is in the image).

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

k=$(uname -r)
echo "kernel $k, $(nproc) CPUs, $(grep MemTotal /proc/meminfo | tr -s ' ')"
if [ -z "${LLAMUX_EXPECT_KVER:-}" ] || [ "$k" = "$LLAMUX_EXPECT_KVER" ]; then
	pass smoke-kernel
else
	fail smoke-kernel "running $k, expected $LLAMUX_EXPECT_KVER"
fi

bad=
grep -q '^proc /proc proc' /proc/mounts && [ -r /proc/self/status ] || bad="$bad /proc"
grep -q '^sysfs /sys sysfs' /proc/mounts && [ -d /sys/kernel ] || bad="$bad /sys"
grep -q '^devtmpfs /dev devtmpfs' /proc/mounts || bad="$bad /dev(devtmpfs)"
for d in /dev/null /dev/zero /dev/console /dev/ttyS0; do
	[ -c "$d" ] || bad="$bad $d"
done
if [ -z "$bad" ]; then
	pass smoke-filesystems
else
	fail smoke-filesystems "missing:$bad"
fi
if grep -q ' /sys/kernel/debug debugfs' /proc/mounts; then
	echo "debugfs mounted at /sys/kernel/debug"
else
	echo "no debugfs"
fi

flags=$(grep -m1 '^flags' /proc/cpuinfo)
case " $flags " in
*" avx2 "*) avx=avx2 ;;
*" avx "*) avx=avx ;;
*) avx=none ;;
esac
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-); AVX: $avx"
case ${LLAMUX_CPU:-} in
qemu64)
	if [ $avx = none ]; then pass smoke-cpu; else fail smoke-cpu "qemu64 should have no AVX"; fi ;;
max)
	if [ $avx = avx2 ]; then pass smoke-cpu; else fail smoke-cpu "-cpu max should have AVX2"; fi ;;
esac

bin=${LLAMUX_BIN:-/usr/bin/llamux}
rc=0
v=$("$bin" --version 2>&1) || rc=$?
echo "$v"
case $rc:$v in
0:llamux\ *) pass smoke-llamux-version ;;
0:*) fail smoke-llamux-version "unexpected output" ;;
*) fail smoke-llamux-version "exit status $rc" ;;
esac

m=${LLAMUX_MODELS:-/lib/firmware/llamux}/stories260K.gguf
if [ -f "$m" ]; then
	rc=0
	out=$("$bin" run -m "$m" -p "Once upon a time" -n 24 --temp 0 2>/tmp/smoke.err) || rc=$?
	echo "$out"
	cat /tmp/smoke.err
	case $rc:$out in
	"0:Once upon a time"?*) pass smoke-llamux-run ;;
	0:*) fail smoke-llamux-run "unexpected output" ;;
	*) fail smoke-llamux-run "exit status $rc" ;;
	esac
fi
exit 0
