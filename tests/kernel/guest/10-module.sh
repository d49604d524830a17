#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# llamux.ko loads with and without its model, makes /dev/llamux and
# /proc/llamux/* with the right modes, and reports itself in status.
. /tests/lib.sh

load_module model=absent.gguf
check module-loads-without-model loaded
check status-says-no-model grep -q '^state: no model' /proc/llamux/status
check status-says-how-to-load grep -q 'echo load NAME > /proc/llamux/control' /proc/llamux/status
check dmesg-says-no-model sh -c 'dmesg | grep -q "llamux: no model loaded: .*absent.gguf"'
rmmod llamux
check rmmod-idle-module sh -c '! grep -q "^llamux " /proc/modules'

load_module model=stories260K.gguf
check module-loads-model test "$(status state)" = ready
check dev-node test -c /dev/llamux
check dev-mode-0660 sh -c 'ls -l /dev/llamux | grep -q "^crw-rw----"'
check proc-prompt-mode-0600 sh -c 'ls -l /proc/llamux/prompt | grep -q "^-rw-------"'
check proc-control-mode-0600 sh -c 'ls -l /proc/llamux/control | grep -q "^-rw-------"'
check status-model-file test "$(status model_file)" = stories260K.gguf
check status-architecture test "$(status architecture)" = llama
check status-tensor-types test "$(status tensor_types)" = F32
check status-threads test "$(status threads)" = "$(nproc)"
check status-simd test -n "$(status simd)"
echo "--- /proc/llamux/status"
cat /proc/llamux/status
