#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The CLI's daemon backend (cli/backend_daemon.c, driven by daemon_client and
# by `llamux run|ask --backend daemon|auto`): over the Unix socket it prints
# exactly what the in-process `llamux run` prints, greedy and seeded; it
# tells whether a daemon is usable (auto) and why not.
. "$(dirname "$0")/lib.sh"

need_pkgs curl || exit 1
[ -n "$LLAMUX" ] && [ -n "$DAEMON_CLIENT" ] || { echo "needs LLAMUX and DAEMON_CLIENT"; exit 1; }

P=$(free_port)
start_daemon d "$P" || exit 1
export LLAMUX_SOCKET="$T/d.sock"

for args in "60 0 1" "80 0.8 123" "50 1.2 7"; do
	set -- $args
	"$LLAMUX" run -m "$MODEL" -p "Once upon a time" -n "$1" --temp "$2" --seed "$3" >"$T/inproc.txt" 2>/dev/null
	"$DAEMON_CLIENT" run "Once upon a time" "$1" "$2" "$3" "$MODEL" >"$T/daemon.txt" 2>"$T/daemon.err"
	check "daemon backend prints what llamux run prints (n=$1 temp=$2 seed=$3)" cmp -s "$T/inproc.txt" "$T/daemon.txt"
done
check "timings go to stderr" grep -q '^llamux: daemon: prompt 5 tokens, generated 50 tokens' "$T/daemon.err"
check "auto: the daemon with this model is usable" "$DAEMON_CLIENT" available "$MODEL"
check "auto: a model given by name matches too" "$DAEMON_CLIENT" available stories260K
out=$("$DAEMON_CLIENT" available ../shared/models/tiny-q4_0.gguf)
check "auto: another model is not usable ($out)" grep -q "serves 'stories260K', not 'tiny-q4_0'" <<<"$out"
"$DAEMON_CLIENT" run "Hi" 5 0 1 ../shared/models/tiny-q4_0.gguf >/dev/null 2>"$T/err.txt"
check "daemon backend refuses another model with a message" grep -q "llamux: error: llamuxd serves 'stories260K'" "$T/err.txt"
LLAMUX_SOCKET="$T/none.sock" "$DAEMON_CLIENT" available >"$T/out.txt"
check "auto: no daemon on the socket is not usable" grep -q "no llamuxd answers on $T/none.sock" "$T/out.txt"
long=$(printf 'the cat sat on the mat %.0s' $(seq 1 600))
"$DAEMON_CLIENT" run "$long" 5 0 1 >/dev/null 2>"$T/err.txt"
check "a refused request prints the service's message" grep -q "llamuxd refused the request (HTTP 400): This model's maximum context length" "$T/err.txt"

# ---- the llamux program itself
"$LLAMUX" run -m "$MODEL" -p "Once upon a time" -n 40 --temp 0 >"$T/inproc.txt" 2>/dev/null
"$LLAMUX" run --backend daemon -m "$MODEL" -p "Once upon a time" -n 40 --temp 0 >"$T/daemon.txt" 2>"$T/daemon.err"
check "llamux run --backend daemon prints what in-process prints" cmp -s "$T/inproc.txt" "$T/daemon.txt"
check "... and says the daemon generated" grep -q '^llamux: daemon: prompt' "$T/daemon.err"
"$LLAMUX" run --backend auto -p "Once upon a time" -n 40 --temp 0 >"$T/auto.txt" 2>"$T/auto.err"
check "llamux run --backend auto (no -m) uses the daemon" grep -q '^llamux: daemon: prompt' "$T/auto.err"
check "... with the same text" cmp -s "$T/inproc.txt" "$T/auto.txt"
"$LLAMUX" run --backend auto -m ../shared/models/tiny-q4_0.gguf -p "Hi" -n 3 --temp 0 >/dev/null 2>"$T/auto2.err"
check "auto with a model the daemon lacks runs in-process" not grep -q 'daemon' "$T/auto2.err"
"$LLAMUX" "Zq Zq Zq" -m "$MODEL" --backend daemon -n 20 --temp 0 >"$T/ask.txt" 2>"$T/ask.err"
check "llamux \"question\" --backend daemon answers through the chat endpoint" grep -q '^llamux: daemon: prompt' "$T/ask.err"
check "... without echoing the question" not grep -q 'Zq Zq Zq' "$T/ask.txt"
check "... and with some text" test -s "$T/ask.txt"
LLAMUX_SOCKET="$T/none.sock" "$LLAMUX" run --backend daemon -m "$MODEL" -p x -n 2 >/dev/null 2>"$T/err.txt"
check "no daemon: --backend daemon says so" grep -q "no llamuxd answers on $T/none.sock.*systemctl start llamuxd" "$T/err.txt"
LLAMUX_SOCKET="$T/none.sock" "$LLAMUX" run --backend auto -p x -n 2 >/dev/null 2>"$T/err.txt"
expect_eq "no daemon, no kernel, no -m: auto is a usage error" 2 "$?"
check "... that says why" grep -q "missing -m MODEL (no llamuxd or kernel model to use" "$T/err.txt"

unset LLAMUX_SOCKET
mkdir -p "$T/rt/llamux"
ln -s "$T/d.sock" "$T/rt/llamux/llamuxd.sock"
if [ ! -e /run/llamux/llamuxd.sock ]; then
	XDG_RUNTIME_DIR="$T/rt" LLAMUX_MODEL="$MODEL" "$LLAMUX" status >"$T/status.txt" 2>&1
	check "llamux status reports the daemon" grep -q "daemon          running ($T/rt/llamux/llamuxd.sock)" "$T/status.txt"
	check "... and that --backend auto uses it" grep -q -- "--backend auto  uses the daemon" "$T/status.txt"
fi
if [ ! -e /run/llamux/llamuxd.sock ]; then
	XDG_RUNTIME_DIR="$T/rt" "$DAEMON_CLIENT" available "$MODEL"
	expect_eq "the socket is found in \$XDG_RUNTIME_DIR/llamux" 0 "$?"
fi
finish
