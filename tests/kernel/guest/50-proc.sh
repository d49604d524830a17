#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# /proc/llamux/prompt and /proc/llamux/control: the one-shot interface,
# defaults, errors that leave the module usable, and model switching with
# garbage and malicious files that must be refused while the old model stays.
. /tests/lib.sh

loaded || load_module model=stories260K.gguf
[ "$(status model_file)" = stories260K.gguf ] || ctl load stories260K.gguf

ctl set temperature 0
ctl set max_tokens 32
check control-shows-temperature grep -q '^temperature: 0.000$' /proc/llamux/control
check control-shows-max-tokens grep -q '^max_tokens: 32$' /proc/llamux/control
ctl set top_p 0.9
check control-milli-parse grep -q '^top_p: 0.900$' /proc/llamux/control
ctl set top_p 1
check control-rejects-unknown-key sh -c '! echo "set nope 1" > /proc/llamux/control'
check control-rejects-bad-value sh -c '! echo "set temperature abc" > /proc/llamux/control'
check control-rejects-range sh -c '! echo "set top_p 1.5" > /proc/llamux/control'
check control-rejects-command sh -c '! echo "frobnicate" > /proc/llamux/control'
check status-last-error sh -c 'grep -q "^last_error: control:" /proc/llamux/status'

check prompt-read-before-write sh -c '! cat /proc/llamux/prompt'
user_run stories260K.gguf "Once upon a time" 32 | sed '1s/^Once upon a time//' > /tmp/want.out
echo "Once upon a time" > /proc/llamux/prompt
cat /proc/llamux/prompt > /tmp/got.out
if cmp -s /tmp/want.out /tmp/got.out; then
	pass prompt-one-shot
else
	fail prompt-one-shot "got '$(cat /tmp/got.out)', want '$(cat /tmp/want.out)'"
fi
check prompt-reread cmp -s /tmp/want.out /proc/llamux/prompt

ctl set max_tokens 100000
echo "Once upon a time" > /proc/llamux/prompt
check prompt-busy sh -c '! echo "again" > /proc/llamux/prompt 2>/dev/null'
cat /proc/llamux/prompt > /dev/null
ctl set max_tokens 32

# Model switching: bad files are refused, the old model stays.
F=$MODELS
head -c 0 /dev/zero > "$F/empty.gguf"
head -c 1000 "$F/stories260K.gguf" > "$F/cut-1000.gguf"
head -c 600000 "$F/stories260K.gguf" > "$F/cut-600000.gguf"
head -c 4096 /dev/urandom > "$F/random.gguf"
cp "$F/stories260K.gguf" "$F/huge-count.gguf"
printf '\377\377\377\377\377\377\377\177' | dd of="$F/huge-count.gguf" bs=1 seek=8 conv=notrunc 2>/dev/null
cp "$F/stories260K.gguf" "$F/bad-version.gguf"
printf '\001' | dd of="$F/bad-version.gguf" bs=1 seek=4 conv=notrunc 2>/dev/null
refused=0
total=0
# The fuzz seeds: one is a small valid model (a switch must work), the
# others are valid GGUF files that are not runnable models.
if [ -e "$F/seed-tiny-llama.gguf" ]; then
	ctl load seed-tiny-llama.gguf
	check control-switches-model test "$(status model_file)" = seed-tiny-llama.gguf
	ctl load stories260K.gguf
fi
for f in empty.gguf cut-1000.gguf cut-600000.gguf random.gguf huge-count.gguf \
	bad-version.gguf absent.gguf \
	$(cd "$F" && ls seed-* 2>/dev/null | grep -v seed-tiny-llama); do
	total=$((total + 1))
	if ctl load "$f" 2>/dev/null; then
		echo "load $f was accepted"
	elif [ "$(status model_file)" = stories260K.gguf ]; then
		refused=$((refused + 1))
	else
		echo "load $f dropped the old model"
	fi
done
echo "refused $refused of $total bad files; last error: $(status last_error)"
if [ $refused -eq $total ]; then pass control-refuses-bad-models; else fail control-refuses-bad-models "$refused of $total"; fi
# Every 61st truncation of a valid small model, and single-byte corruptions
# of its header and tensor table: each refused, the old model kept.
if [ -e "$F/seed-tiny-llama.gguf" ]; then
	size=$(wc -c < "$F/seed-tiny-llama.gguf")
	n=0
	ok=0
	len=0
	while [ $len -lt "$size" ]; do
		head -c $len "$F/seed-tiny-llama.gguf" > "$F/cut.gguf"
		n=$((n + 1))
		if ! ctl load cut.gguf 2>/dev/null && [ "$(status model_file)" = stories260K.gguf ]; then
			ok=$((ok + 1))
		else
			echo "truncation at $len was not refused"
		fi
		len=$((len + 61))
	done
	pos=4
	while [ $pos -lt 200 ]; do
		cp "$F/seed-tiny-llama.gguf" "$F/flip.gguf"
		printf '\377' | dd of="$F/flip.gguf" bs=1 seek=$pos conv=notrunc 2>/dev/null
		ctl load flip.gguf 2>/dev/null
		# A flip may leave a valid file; the module must stay usable either way.
		[ "$(status state)" = ready ] || echo "flip at $pos left no model"
		ctl load stories260K.gguf
		pos=$((pos + 7))
	done
	rm -f "$F/cut.gguf" "$F/flip.gguf"
	echo "truncations: $ok of $n refused"
	check control-refuses-truncations test $ok -eq $n
fi
check control-refuses-path sh -c '! echo "load ../../../etc/passwd" > /proc/llamux/control'
echo "Once upon a time" > /proc/llamux/prompt
check usable-after-bad-loads cmp -s /tmp/want.out /proc/llamux/prompt

ctl unload
check unload-status test "$(status state)" = "no model"
check write-without-model sh -c '! echo "hi" > /dev/llamux'
ctl load stories260K.gguf
check reload-after-unload test "$(status state)" = ready
