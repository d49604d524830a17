# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared helpers of the llamux guest scripts (sourced, not run): result lines,
# loading the module, and userspace reference runs.
MODELS=${LLAMUX_MODELS:-/lib/firmware/llamux}
MODDIR=${LLAMUX_MODULES:-/lib/modules/$(uname -r)/extra}
LLAMUX=${LLAMUX_BIN:-/usr/bin/llamux}

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME COMMAND...: PASS if the command succeeds
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

loaded() { grep -q '^llamux ' /proc/modules; }

# load_module [PARAM=VALUE...]: (re)loads llamux.ko
load_module() {
	loaded && rmmod llamux
	insmod "$MODDIR/llamux.ko" "$@"
}

# ctl COMMAND: writes to /proc/llamux/control
ctl() { echo "$*" > /proc/llamux/control; }

status() { sed -n "s/^$1: //p" /proc/llamux/status; }

# userspace greedy continuation of PROMPT (N tokens) with MODEL: stdout of
# `llamux run`, the in-process reference for the kernel's output
user_run() {
	"$LLAMUX" run -m "$MODELS/$1" -p "$2" -n "$3" --temp 0 2>/dev/null
}

kernel_run() {
	"$LLAMUX" run --backend kernel -m "$1" -p "$2" -n "$3" --temp 0
}
