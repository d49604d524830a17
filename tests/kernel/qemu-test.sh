#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Boots one of Debian's own kernels in QEMU (TCG, no KVM needed) with an
# initramfs holding busybox, our kernel modules, the llamux program, models
# and the guest test scripts; /init (tests/kernel/init) runs the scripts and
# this script turns their PASS/FAIL lines into its exit status.
# See tests/kernel/README.md; `qemu-test.sh --help` lists the options.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
shared=$(cd "$top/.." && pwd)/shared
cache=${LLAMUX_KERNEL_CACHE:-$top/build-kernel}

usage() {
	cat <<EOF
usage: $0 [options]
  --kver 6.1|6.12|FULLVERSION  kernel to boot (default 6.1); a series picks the
                          newest installed linux-headers-SERIES.*-amd64
  --cpu max|qemu64|MODEL  QEMU CPU model (default max; qemu64 has no AVX)
  --model FILE            add a model file to /lib/firmware/llamux/ (repeatable)
  --no-default-models     leave out the default models
  --guest-script FILE     add a guest script to /tests/ (repeatable); /init
                          runs the ones whose name starts with a digit, in
                          lexical order; others are helpers (lib.sh)
  --no-default-scripts    leave out tests/kernel/guest/*
  --env NAME=VALUE        export this to the guest scripts (repeatable)
  --module FILE           put this module in the image instead of the default
                          kernel/llamux.ko and kernel/sample/llamux_sample.ko
                          (repeatable); it must be built for the kernel booted
  --no-modules            no kernel modules in the image
  --llamux BIN            llamux program (default build/llamux, built with
                          'make build' if missing or older than its sources)
  --reference NAME|FILE   copy ../shared/reference/NAME/*.json, or FILE, to
                          /reference/NAME/ in the image (repeatable)
  --timeout SECONDS       kill QEMU after this long (default 900)
  --script-timeout SECONDS  time limit of each guest script (default 600)
  --append ARGS           extra kernel command line (e.g. "panic_on_warn=1")
  --boot auto|pvh|bzimage how to boot (default auto: the ELF vmlinux through
                          its PVH note if it has one, else the bzImage)
  --log FILE              console log (default build-kernel/KVER/console-CPU.log);
                          the result lines go to FILE.results
  --keep                  keep the work directory with the initramfs tree
  -v, --verbose           stream the whole console to stdout
EOF
}

kver_arg=6.1
cpu=max
models=()
default_models=1
scripts=()
default_scripts=1
modules=()
no_modules=0
llamux=
refs=()
envs=()
timeout=900
script_timeout=600
append=
boot=auto
log=
keep=0
verbose=0

need_arg() {
	if [ "$2" -lt 2 ]; then
		echo "$0: $1 needs an argument" >&2
		exit 2
	fi
}
while [ $# -gt 0 ]; do
	case $1 in
	--kver) need_arg "$1" $#; kver_arg=$2; shift ;;
	--cpu) need_arg "$1" $#; cpu=$2; shift ;;
	--model) need_arg "$1" $#; models+=("$2"); shift ;;
	--no-default-models) default_models=0 ;;
	--guest-script) need_arg "$1" $#; scripts+=("$2"); shift ;;
	--no-default-scripts) default_scripts=0 ;;
	--env) need_arg "$1" $#; envs+=("$2"); shift ;;
	--module) need_arg "$1" $#; modules+=("$2"); shift ;;
	--no-modules) no_modules=1 ;;
	--llamux) need_arg "$1" $#; llamux=$2; shift ;;
	--reference) need_arg "$1" $#; refs+=("$2"); shift ;;
	--timeout) need_arg "$1" $#; timeout=$2; shift ;;
	--script-timeout) need_arg "$1" $#; script_timeout=$2; shift ;;
	--append) need_arg "$1" $#; append=$2; shift ;;
	--boot) need_arg "$1" $#; boot=$2; shift ;;
	--log) need_arg "$1" $#; log=$2; shift ;;
	--keep) keep=1 ;;
	-v | --verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$0: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for n in "$timeout" "$script_timeout"; do
	case $n in
	"" | *[!0-9]*) echo "$0: --timeout and --script-timeout take whole seconds" >&2; exit 2 ;;
	esac
done
case $boot in
auto | pvh | bzimage) ;;
*) echo "$0: --boot is auto, pvh or bzimage" >&2; exit 2 ;;
esac

say() { echo "qemu-test: $*"; }
die() {
	echo "qemu-test: error: $*" >&2
	exit 1
}

# milliseconds since the epoch (bash 5's EPOCHREALTIME; any locale)
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
t_start=$(now_ms)

# --- host packages -----------------------------------------------------------
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	say "installing: $*"
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages; install them with: sudo apt-get install $*"
	fi
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } ||
		die "could not install $*"
}
need_pkgs() {
	local missing=() spec
	for spec in qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip xz:xz-utils \
		zstd:zstd depmod:kmod modinfo:kmod readelf:binutils dpkg-deb:dpkg \
		flock:util-linux; do
		command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec#*:}")
	done
	# the image needs the static busybox (the 'busybox' package is dynamic)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing+=(busybox-static)
	if [ ${#missing[@]} -gt 0 ]; then
		# shellcheck disable=SC2207
		missing=($(printf '%s\n' "${missing[@]}" | sort -u))
		apt_install "${missing[@]}"
	fi
}
need_pkgs

# --- the kernel --------------------------------------------------------------
# a series (6.1, 6.12) -> the newest installed headers of that series
find_kver() {
	local d
	for d in /usr/src/linux-headers-"$1".*-amd64 /usr/src/linux-headers-"$1"-*-amd64; do
		[ -d "$d" ] && echo "${d#/usr/src/linux-headers-}"
	done | sort -V | tail -n 1
}
case $kver_arg in
*-amd64) kver=$kver_arg ;;
*)
	kver=$(find_kver "$kver_arg")
	if [ -z "$kver" ]; then
		# linux-headers-6.12-amd64 exists; the default series has linux-headers-amd64
		if apt-cache show "linux-headers-$kver_arg-amd64" >/dev/null 2>&1; then
			apt_install "linux-headers-$kver_arg-amd64"
		else
			apt_install linux-headers-amd64
		fi
		kver=$(find_kver "$kver_arg")
		[ -n "$kver" ] || die "no linux-headers-$kver_arg.*-amd64 after installing; give --kver FULLVERSION"
	fi
	;;
esac

kdir=$cache/$kver
mkdir -p "$kdir"
# one fetcher per kernel at a time
exec 9>"$kdir/.lock"
flock 9

vmlinuz=$kdir/boot/vmlinuz-$kver
if [ ! -f "$vmlinuz" ]; then
	say "fetching linux-image-$kver-unsigned"
	rm -rf "$kdir/deb" && mkdir -p "$kdir/deb"
	# (as root, apt warns that the download is unsandboxed: harmless)
	get() {
		(cd "$kdir/deb" && apt-get download -q "$1") >"$kdir/deb/apt.log" 2>&1 && return 0
		grep -v 'unsandboxed' "$kdir/deb/apt.log" >&2
		return 1
	}
	get "linux-image-$kver-unsigned" ||
		{ apt-get update -qq && get "linux-image-$kver-unsigned"; } ||
		get "linux-image-$kver" ||
		die "could not download linux-image-$kver-unsigned"
	deb=$(find "$kdir/deb" -name 'linux-image-*.deb' | head -n 1)
	# only /boot: the 400 MB of in-tree modules are not needed
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" ./boot
	rm -rf "$kdir/deb"
	[ -f "$vmlinuz" ] || die "$deb has no boot/vmlinuz-$kver"
fi

vmlinux=$kdir/vmlinux
pvh_note=0
if [ "$boot" != bzimage ]; then
	if [ ! -f "$vmlinux" ] && [ ! -f "$vmlinux.failed" ]; then
		"$here/extract-vmlinux.sh" "$vmlinuz" "$vmlinux" || : >"$vmlinux.failed"
	fi
	# XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point QEMU uses
	if [ -f "$vmlinux" ] && readelf -n "$vmlinux" 2>/dev/null |
		grep -qE 'PHYS32_ENTRY|note type: \(0x0*12\)'; then
		pvh_note=1
	fi
fi
flock -u 9
case $boot in
pvh) [ $pvh_note = 1 ] || die "no vmlinux with a PVH note for $kver (try --boot bzimage)" ;;
auto) if [ $pvh_note = 1 ]; then boot=pvh; else
	say "PVH boot not possible for $kver (no ELF vmlinux with a PVH note); booting the bzImage"
	boot=bzimage
fi ;;
esac

# --- the initramfs -----------------------------------------------------------
if [ -z "$log" ]; then
	log=$kdir/console-$cpu.log
fi
mkdir -p "$(dirname "$log")"
log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")
results=$log.results

mkdir -p "$cache/work"
work=$(mktemp -d "$cache/work/$kver-$cpu.XXXXXX")
qpid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ "$keep" = 1 ]; then
		echo "qemu-test: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,tests,reference} \
	"$root/lib/firmware/llamux" "$root/lib/modules/$kver/extra"

# copy a program and the shared libraries ldd finds, to the same paths
copy_with_libs() {
	local bin=$1 dest=$2 lib
	cp -L "$bin" "$root$dest"
	chmod 755 "$root$dest"
	ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
}

copy_with_libs /bin/busybox /bin/busybox
for a in $(/bin/busybox --list-full); do
	[ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
cp "$here/init" "$root/init"
chmod 755 "$root/init"
# the kernel's built-in initramfs has /dev/console too; this needs root
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# the llamux program: build/llamux is (re)built when missing or older than
# its sources
if [ -z "$llamux" ]; then
	llamux=$top/build/llamux
	why=
	if [ ! -x "$llamux" ]; then
		why="missing"
	else
		newer=$(cd "$top" && find cli core host include CMakeLists.txt -type f \
			\( -name '*.[ch]' -o -name 'CMakeLists.txt' \) -newer "$llamux" 2>/dev/null | head -n 1)
		[ -z "$newer" ] || why="older than $newer"
	fi
	if [ -n "$why" ]; then
		say "building $llamux ($why): make build"
		if ! make -C "$top" build >"$work/make-build.log" 2>&1; then
			tail -n 30 "$work/make-build.log" >&2
			[ -x "$llamux" ] || die "make build failed"
			say "warning: make build failed; using the old $llamux"
		fi
	fi
fi
[ -x "$llamux" ] || die "no llamux program at $llamux"
copy_with_libs "$llamux" /usr/bin/llamux
# lsh, built beside it, for its kernel model fallback (guest/35-lsh.sh)
if [ -x "$(dirname "$llamux")/lsh/lsh" ]; then
	copy_with_libs "$(dirname "$llamux")/lsh/lsh" /usr/bin/lsh
fi

# models
if [ $default_models = 1 ]; then
	for m in stories260K.gguf tiny-q4_0.gguf tiny-q4_k_m.gguf tiny-q8_0.gguf tiny-f16.gguf; do
		if [ -f "$shared/models/$m" ]; then
			models=("$shared/models/$m" "${models[@]}")
		else
			say "warning: default model $shared/models/$m not found"
		fi
	done
fi
for m in ${models[@]+"${models[@]}"}; do
	[ -f "$m" ] || die "no model file $m"
	[ -e "$root/lib/firmware/llamux/$(basename "$m")" ] && continue
	cp "$m" "$root/lib/firmware/llamux/"
done

# reference files
for r in ${refs[@]+"${refs[@]}"}; do
	if [ -f "$r" ]; then
		d=$root/reference/$(basename "$(dirname "$r")")
		mkdir -p "$d" && cp "$r" "$d/"
	elif [ -d "$shared/reference/$r" ]; then
		mkdir -p "$root/reference/$r"
		cp "$shared/reference/$r"/*.json "$root/reference/$r/"
	else
		die "--reference $r: neither a file nor a directory in $shared/reference"
	fi
done

# kernel modules: the ones given must match the kernel; the default ones are
# left out (with a warning) when built for another kernel
mod_kver() { modinfo -F vermagic "$1" 2>/dev/null | awk '{ print $1 }'; }
module_list=()
if [ $no_modules = 0 ]; then
	if [ ${#modules[@]} -gt 0 ]; then
		for m in "${modules[@]}"; do
			[ -f "$m" ] || die "no module file $m"
			v=$(mod_kver "$m")
			[ "$v" = "$kver" ] || die "$m is built for '$v', not $kver; build it against /usr/src/linux-headers-$kver"
			module_list+=("$m")
		done
	else
		for m in "$top/kernel/llamux.ko" "$top/kernel/sample/llamux_sample.ko"; do
			[ -f "$m" ] || continue
			v=$(mod_kver "$m")
			if [ "$v" = "$kver" ]; then
				module_list+=("$m")
			else
				say "warning: leaving out ${m#"$top"/}: built for '$v', not $kver"
			fi
		done
	fi
fi
for m in ${module_list[@]+"${module_list[@]}"}; do
	cp "$m" "$root/lib/modules/$kver/extra/"
done
if [ ${#module_list[@]} -gt 0 ]; then
	# modules.dep for 'modprobe llamux' in the guest
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		: >"$root/lib/modules/$kver/$f"
	done
	depmod -b "$root" "$kver" 2>"$work/depmod.log" ||
		say "warning: depmod failed (see $work/depmod.log); use insmod in the guest"
fi

# guest scripts: /init runs those named [0-9]*, the rest are helpers
if [ $default_scripts = 1 ]; then
	defaults=()
	for s in "$here"/guest/*; do
		[ -f "$s" ] && defaults+=("$s")
	done
	scripts=(${defaults[@]+"${defaults[@]}"} ${scripts[@]+"${scripts[@]}"})
fi
run_list=()
helper_list=()
for s in ${scripts[@]+"${scripts[@]}"}; do
	[ -f "$s" ] || die "no guest script $s"
	b=$(basename "$s")
	[ -e "$root/tests/$b" ] && die "two guest scripts named $b"
	cp "$s" "$root/tests/"
	case $b in
	[0-9]*) chmod 755 "$root/tests/$b"; run_list+=("$b") ;;
	*) helper_list+=("$b") ;;
	esac
done
[ ${#run_list[@]} -gt 0 ] || die "no guest scripts to run (their names must start with a digit)"

# single-quoted for the configuration file, which /init sources
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "SCRIPT_TIMEOUT=$script_timeout"
	echo "LLAMUX_EXPECT_KVER=$(q "$kver")"
	echo "LLAMUX_CPU=$(q "$cpu")"
	for e in ${envs[@]+"${envs[@]}"}; do
		case ${e%%=*} in
		"$e" | "" | [0-9]* | *[!A-Za-z0-9_]*) die "--env $e: not NAME=VALUE" ;;
		esac
		echo "export ${e%%=*}=$(q "${e#*=}")"
	done
} >"$root/etc/llamux-test.conf"

initrd=$work/initrd.cpio.gz
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$initrd"
t_image=$(now_ms)

# --- boot --------------------------------------------------------------------
if [ "$boot" = pvh ]; then image=$vmlinux; else image=$vmlinuz; fi
say "kernel $kver, boot $boot ($image), cpu $cpu"
say "image: $(du -k "$initrd" | cut -f1) KiB; modules: ${module_list[*]:-none}"
say "scripts: ${run_list[*]}${helper_list[0]+; helpers (not run): ${helper_list[*]}}"
say "console log: $log"

rm -f "$log" "$results"
: >"$log"
: >"$results"
# QEMU's option syntax doubles commas in file names
qemu=(qemu-system-x86_64 -accel tcg -cpu "$cpu" -smp 2 -m 2G -nic none -no-reboot
	-nographic -monitor none
	-serial "file:${log//,/,,}" -serial "file:${results//,/,,}"
	-kernel "$image" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 $append")
echo "${qemu[*]}" >"$work/qemu.cmd"
t_qemu=$(now_ms)
"${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!

# follow the two logs until QEMU ends, printing new lines: the console when
# verbose, else the result lines
shown=0
boot_ms=
done_ms=
timed_out=0
show_new() {
	local f=$1 n
	n=$(wc -l <"$f")
	if [ "$n" -gt "$shown" ]; then
		sed -n "$((shown + 1)),${n}p" "$f" | tr -d '\r'
		shown=$n
	fi
}
if [ $verbose = 1 ]; then follow=$log; else follow=$results; fi
while kill -0 "$qpid" 2>/dev/null; do
	sleep 0.2
	now=$(now_ms)
	show_new "$follow"
	if [ -z "$boot_ms" ] && grep -q LLAMUX-GUEST-INIT "$results"; then
		boot_ms=$((now - t_qemu))
	fi
	if [ -z "$done_ms" ] && grep -q LLAMUX-GUEST-DONE "$results"; then
		done_ms=$now
	fi
	if [ $((now - t_qemu)) -gt $((timeout * 1000)) ]; then
		timed_out=1
		say "timeout: ${timeout} s passed; killing QEMU"
		break
	fi
	if [ -n "$done_ms" ] && [ $((now - done_ms)) -gt 20000 ]; then
		say "the guest did not power off 20 s after LLAMUX-GUEST-DONE; killing QEMU"
		break
	fi
done
if kill -0 "$qpid" 2>/dev/null; then
	kill -TERM "$qpid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$qpid" 2>/dev/null || true
fi
qrc=0
wait "$qpid" || qrc=$?
qpid=
t_end=$(now_ms)
show_new "$follow"

# --- verdict -----------------------------------------------------------------
res=$(tr -d '\r' <"$results")
npass=$(grep -c '^PASS ' <<<"$res" || true)
nfail=$(grep -c '^FAIL ' <<<"$res" || true)
guest_up=$(sed -n 's/^LLAMUX-GUEST-INIT uptime=\([0-9.]*\).*/\1/p' <<<"$res" | head -n 1)
done_seen=0
grep -q '^LLAMUX-GUEST-DONE' <<<"$res" && done_seen=1

if [ -s "$work/qemu.out" ]; then
	echo "--- QEMU said:"
	cat "$work/qemu.out"
fi
ok=1
[ "$npass" -gt 0 ] && [ "$nfail" -eq 0 ] && [ $done_seen = 1 ] && [ $timed_out = 0 ] || ok=0

echo "=== summary: kernel $kver ($boot boot), cpu $cpu"
echo "    $npass PASS, $nfail FAIL"
grep '^FAIL ' <<<"$res" | sed 's/^/    /' || true
if [ -n "$boot_ms" ]; then
	echo "    boot to /init: $(secs "$boot_ms") s from QEMU start (guest uptime ${guest_up:-?} s)"
else
	echo "    /init never started"
	if [ "$boot" = pvh ] && [ ! -s "$log" ]; then
		echo "    the PVH boot printed nothing; try --boot bzimage"
	fi
fi
echo "    total: $(secs $((t_end - t_start))) s (image $(secs $((t_image - t_start))) s, QEMU $(secs $((t_end - t_qemu))) s, exit status $qrc)"
if [ $done_seen = 0 ]; then
	echo "    no LLAMUX-GUEST-DONE: the guest did not finish (timeout, hang or panic; see the console log)"
	tr -d '\r' <"$log" | grep -m 3 -E 'Kernel panic|BUG:|Oops|general protection' | sed 's/^/    /' || true
fi
[ $timed_out = 0 ] || echo "    timed out after $timeout s"
echo "    console log: $log"
if [ $ok = 1 ]; then
	echo "=== PASSED"
	exit 0
fi
if [ $verbose = 0 ]; then
	echo "--- last 40 console lines:"
	tail -n 40 "$log" | tr -d '\r'
fi
echo "=== FAILED"
exit 1
