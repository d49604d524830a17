#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# lsh's model fallback through /dev/llamux: a request no intent matches is
# sent to the kernel's model (one more request served), and whatever the
# tiny story model answers is only proposed (--dry-run) or refused, never run.
. /tests/lib.sh

LSH=/usr/bin/lsh
if [ ! -x "$LSH" ]; then
	echo "SKIP lsh-kernel: no lsh in the image"
	exit 0
fi
loaded || load_module model=stories260K.gguf
[ "$(status model_file)" = stories260K.gguf ] || ctl load stories260K.gguf

"$LSH" --backend kernel --version > /tmp/lsh.ver 2>&1
cat /tmp/lsh.ver
check lsh-kernel-version grep -q "model fallback: kernel module (stories260K" /tmp/lsh.ver

before=$(status requests_served)
cd /tmp && rm -f /tmp/lsh-canary
"$LSH" --backend kernel --dry-run -c "frobnicate the quux with zorbs" > /tmp/lsh.out 2> /tmp/lsh.err
rc=$?
after=$(status requests_served)
echo "lsh: rc $rc; stdout: $(head -c 200 /tmp/lsh.out); stderr: $(head -c 300 /tmp/lsh.err)"
check lsh-kernel-asked test "$after" -eq $((before + 1))
# the output contract: three lines (command, safety, explanation), or a
# message on stderr and exit 2
if [ $rc = 0 ]; then
	check lsh-kernel-proposal sh -c '[ $(wc -l < /tmp/lsh.out) = 3 ] && sed -n 2p /tmp/lsh.out | grep -q "^# \(safe\|risky\)"'
else
	check lsh-kernel-refusal sh -c '[ '"$rc"' = 2 ] && [ -s /tmp/lsh.err ] && [ ! -s /tmp/lsh.out ]'
fi
check lsh-kernel-module-still-ready test "$(status state)" = ready
