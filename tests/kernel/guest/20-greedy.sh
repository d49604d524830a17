#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Greedy output through /dev/llamux is byte-for-byte the output of
# userspace `llamux run --temp 0` (same core, same tokens) for each model.
. /tests/lib.sh

loaded || load_module model=stories260K.gguf

ONCE="Once upon a time"
LONG='One day, a girl named Lily went to the park with her mom. She saw a big tree with many red apples. Lily wanted to pick an apple, but the tree was too tall. Her mom said, "Let us ask the man with the ladder." The man was kind and he helped Lily get an apple. Lily said thank you and they all sat under the tree. They ate the apples and watched the birds fly in the blue sky. When the sun went down, Lily and her mom walked home. Lily was happy because'

# same MODEL CASE PROMPT N
same() {
	name="greedy-${1%.gguf}-$2"
	[ -e "$MODELS/$1" ] || { fail "$name" "model $1 not in the image"; return; }
	if [ "$(status model_file)" != "$1" ]; then
		ctl load "$1" || { fail "$name" "cannot load $1"; return; }
	fi
	user_run "$1" "$3" "$4" > /tmp/user.out
	t0=$(cut -d' ' -f1 /proc/uptime)
	kernel_run "$1" "$3" "$4" > /tmp/kernel.out 2> /tmp/kernel.err
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$name: $(grep 'kernel: prompt' /tmp/kernel.err) [wall $t0 -> $t1]"
	if [ $rc -ne 0 ]; then
		fail "$name" "llamux --backend kernel: $(cat /tmp/kernel.err)"
	elif cmp -s /tmp/user.out /tmp/kernel.out && [ -s /tmp/user.out ]; then
		pass "$name"
	else
		fail "$name" "kernel and userspace differ"
		echo "userspace: $(cat /tmp/user.out)"
		echo "kernel:    $(cat /tmp/kernel.out)"
	fi
}

CODE='def add(a, b):
    return'

same stories260K.gguf greedy200 "$ONCE" 200
for m in ${LLAMUX_GREEDY_MODELS:-tiny-q4_0.gguf tiny-q4_k_m.gguf tiny-q8_0.gguf tiny-f16.gguf}; do
	same "$m" once "$ONCE" 32
	same "$m" long "$LONG" 24
done
# Other families (byte-level BPE vocabulary, NeoX RoPE, biases, LayerNorm).
for m in ${LLAMUX_FAMILY_MODELS:-phi2-q4_0.gguf qwen2-q4_0.gguf}; do
	same "$m" once "$ONCE" 8
	same "$m" code "$CODE" 8
done
ctl load stories260K.gguf
