#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Unloading under load, repeated insmod/rmmod, and running out of memory:
# errors, never an oops, nothing left allocated.
. /tests/lib.sh

clean_unload_lines() { dmesg | grep -c 'llamux: unloaded; core memory still allocated: 0 bytes'; }

load_module model=stories260K.gguf
ctl set temperature 0
ctl set max_tokens 100000

# An open session pins the module (misc device rules): rmmod must refuse.
exec 4<>/dev/llamux
printf 'Once upon a time' >&4
check rmmod-refused-while-open sh -c '! rmmod llamux 2>/dev/null'
exec 4>&-
before=$(clean_unload_lines)
check rmmod-after-close rmmod llamux
check unload-leaves-nothing test "$(clean_unload_lines)" -gt "$before"

# /proc readers do not pin it: rmmod cancels the request under them.
load_module model=stories260K.gguf
ctl set temperature 0
ctl set max_tokens 100000
echo "Once upon a time" > /proc/llamux/prompt
(cat /proc/llamux/prompt > /tmp/cat.out 2> /tmp/cat.err; echo $? > /tmp/cat.rc) &
sleep 1
check rmmod-during-proc-read rmmod llamux
wait
echo "reader: rc $(cat /tmp/cat.rc), $(cat /tmp/cat.err)"
check proc-reader-gets-error-or-eof sh -c 'grep -q "No such device" /tmp/cat.err || [ "$(cat /tmp/cat.rc)" = 0 ]'

# Twenty load/use/unload cycles.
# Leaks are looked for where the module allocates: vmalloc (the model file,
# KV caches; one model is 1158 kB) and unreclaimable slab (kmalloc).
# MemAvailable is only printed: it moves by tens of MB with no leak.
meminfo() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" /proc/meminfo; }
settle() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; sleep 1; }
before=$(clean_unload_lines)
settle
mem0=$(meminfo MemAvailable)
vm0=$(meminfo VmallocUsed)
slab0=$(meminfo SUnreclaim)
ok=0
i=0
trace=""
while [ $i -lt 20 ]; do
	if insmod "$MODDIR/llamux.ko" model=stories260K.gguf &&
	   echo "set max_tokens 8" > /proc/llamux/control &&
	   echo "Once" > /proc/llamux/prompt &&
	   cat /proc/llamux/prompt > /dev/null && rmmod llamux; then
		ok=$((ok + 1))
	fi
	trace="$trace $(meminfo VmallocUsed)"
	i=$((i + 1))
done
settle
mem1=$(meminfo MemAvailable)
vm1=$(meminfo VmallocUsed)
slab1=$(meminfo SUnreclaim)
echo "20 cycles: $ok clean; MemAvailable $mem0 -> $mem1 kB; VmallocUsed $vm0 -> $vm1 kB; SUnreclaim $slab0 -> $slab1 kB"
echo "VmallocUsed after each cycle:$trace"
check insmod-rmmod-20-times test $ok -eq 20
check cycles-leave-nothing test $(($(clean_unload_lines) - before)) -eq 20
check cycles-vmalloc-stable test $((vm1 - vm0)) -lt 1024
check cycles-slab-stable test $((slab1 - slab0)) -lt 2048

# Out of memory: a tiny mem_limit fails requests with ENOMEM; the module
# stays usable.
load_module model=stories260K.gguf mem_limit=600000
check oom-model-still-loads test "$(status state)" = ready
"$LLAMUX" run --backend kernel -p "Once upon a time" -n 8 > /dev/null 2> /tmp/oom.err
rc=$?
echo "under mem_limit: rc $rc, $(cat /tmp/oom.err)"
check oom-request-fails sh -c "[ $rc -ne 0 ] && grep -q 'Cannot allocate memory' /tmp/oom.err"
check oom-status-still-works grep -q '^state: ready' /proc/llamux/status
check oom-no-leak test "$(status core_memory_bytes)" -lt 600000
before=$(clean_unload_lines)
rmmod llamux
check oom-unload-clean test "$(clean_unload_lines)" -gt "$before"

# Kernel fault injection, where this kernel has it.
if [ -d /sys/kernel/debug/failslab ]; then
	load_module model=stories260K.gguf
	echo 1 > /sys/kernel/debug/failslab/task-filter 2>/dev/null
	echo 50 > /sys/kernel/debug/failslab/probability
	echo -1 > /sys/kernel/debug/failslab/times
	n=0
	while [ $n -lt 10 ]; do
		"$LLAMUX" run --backend kernel -p "Once upon a time" -n 8 > /dev/null 2>&1
		n=$((n + 1))
	done
	echo 0 > /sys/kernel/debug/failslab/probability
	check failslab-survives grep -q '^state: ready' /proc/llamux/status
	rmmod llamux
else
	echo "SKIP failslab: this kernel has no slab fault injection"
fi
load_module model=stories260K.gguf
