#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The kernel's own style checker over our kernel code: kernel/ and the UAPI
# and in-kernel API headers must be clean (no errors, no warnings); the core,
# shared with userspace, must have no errors.
set -eu
cd "$(dirname "$0")/../.."
cp=$(tests/kernel/get-checkpatch.sh)
run() { perl "$cp" --no-tree --terse --show-types -f "$@" 2>&1 | grep -E '^[^ ]+:[0-9]+: (ERROR|WARNING)' || true; }

# shellcheck disable=SC2046 # file names have no spaces
glue=$(run $(ls kernel/*.c kernel/*.h kernel/sample/*.c | grep -v '\.mod\.c$') \
	include/uapi/linux/llamux.h include/llamux/kernel.h)
core=$(run core/*.c core/*.h | grep ': ERROR' || true)
status=0
if [ -n "$glue" ]; then
	echo "checkpatch: kernel/ must be clean:"
	echo "$glue"
	status=1
fi
if [ -n "$core" ]; then
	echo "checkpatch: core/ must have no errors:"
	echo "$core"
	status=1
fi
[ $status = 0 ] && echo "checkpatch: kernel/ clean, core/ without errors"
exit $status
