#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The sample client module gets the right answer through the exported
# in-kernel API (llamux_kernel_query), and unloads cleanly.
. /tests/lib.sh

loaded || load_module model=stories260K.gguf
[ "$(status model_file)" = stories260K.gguf ] || ctl load stories260K.gguf
user_run stories260K.gguf "Once upon a time" 32 > /tmp/user.out
# what follows the prompt, without the final newline
want=$(sed '1s/^Once upon a time//' /tmp/user.out)
insmod "$MODDIR/llamux_sample.ko" 'prompt="Once upon a time"' max_tokens=32
rc=$?
got=$(dmesg | sed -n 's/.*llamux_sample: answer: //p' | tail -n 1)
echo "sample client: '$got'"
if [ $rc -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass sample-client-answer
else
	fail sample-client-answer "insmod $rc; want '$want'"
fi
check sample-client-pins-llamux sh -c '! rmmod llamux 2>/dev/null'
check sample-client-unloads rmmod llamux_sample
