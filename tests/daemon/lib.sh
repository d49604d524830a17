# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared helpers of the llamuxd tests (sourced): arguments, Debian packages
# installed when missing, free ports, starting llamuxd and waiting until it
# is ready, checks, and a trap that ends every process a test started and
# removes its scratch directory. Tests run from the project root:
#   bash tests/daemon/test_X.sh LLAMUXD [LLAMUX [DBUS_GENERATE [DAEMON_CLIENT]]]
set -u

LLAMUXD=${1:?usage: $0 LLAMUXD [LLAMUX [DBUS_GENERATE [DAEMON_CLIENT]]]}
LLAMUX=${2:-}
DBUS_GENERATE=${3:-}
DAEMON_CLIENT=${4:-}
MODEL=${LLAMUXD_TEST_MODEL:-../shared/models/stories260K.gguf}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX")
chmod 755 "$T"
: > "$T/empty.conf"
PIDS=""
n_pass=0
n_fail=0

ok() { n_pass=$((n_pass + 1)); echo "ok: $*"; }
bad() { n_fail=$((n_fail + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
# not CMD...: succeeds when CMD fails (for check).
not() { ! "$@"; }
# expect_eq DESCRIPTION WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}

cleanup() {
	local p
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${KEEP_LOGS:-}" ]; then
		echo "logs kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# finish: the summary line ctest's log shows; exit code from the failures.
finish() {
	echo "$TEST_NAME: $n_pass passed, $n_fail failed"
	if [ "$n_fail" -ne 0 ]; then
		local f
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- tail of $f"
			tail -n 30 "$f"
		done
		exit 1
	fi
	exit 0
}

# need_pkgs PKG...: installs missing Debian packages (as root), else skips.
need_pkgs() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "$TEST_NAME: needs Debian packages:$missing (apt-get install$missing)"
		return 1
	fi
	echo "$TEST_NAME: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null 2>&1
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
	}
}

# free_port: a TCP port nothing listens on, below the ephemeral range (so
# that no client connection's local port takes it), checked by connecting.
free_port() {
	local p i lo=32768
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "$lo" -gt 11000 ] || lo=32768
	for i in $(seq 1 200); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_health URL|unix:SOCK [SECONDS]: until /health answers 200.
wait_health() {
	local target=$1 secs=${2:-20} i code
	for i in $(seq 1 $((secs * 20))); do
		if [ "${target#unix:}" != "$target" ]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "${target#unix:}" http://llamuxd/health 2>/dev/null)
		else
			code=$(curl -s -o /dev/null -w '%{http_code}' "$target/health" 2>/dev/null)
		fi
		[ "$code" = 200 ] && return 0
		sleep 0.05
	done
	return 1
}

# start_daemon NAME PORT ARGS...: llamuxd on 127.0.0.1:PORT with the socket
# $T/NAME.sock and no D-Bus, logging to $T/NAME.log; sets DPID, waits until
# ready. Extra arguments come last (they override these).
start_daemon() {
	local name=$1 port=$2
	shift 2
	"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port "$port" \
		--socket "$T/$name.sock" --no-dbus "$@" >>"$T/$name.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	if ! wait_health "http://127.0.0.1:$port" 20; then
		echo "llamuxd $name did not become ready; its log:"
		cat "$T/$name.log"
		return 1
	fi
}

# stop_daemon PID: SIGTERM and wait; prints the exit status.
stop_daemon() {
	local rc
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	rc=$?
	echo "$rc"
}

# rss_kb PID
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# json FILE EXPR: evaluates a JavaScript expression over the parsed file
# (variable j), printing the result (node is on the machine).
json() {
	node -e '
		const fs = require("fs");
		const j = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		const v = eval(process.argv[2]);
		process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
	' "$1" "$2"
}

# sse_text FILE FIELD: concatenated delta text of an SSE stream (FIELD:
# "chat" reads choices[0].delta.content, "text" reads choices[0].text).
sse_text() {
	node -e '
		const fs = require("fs");
		let out = "";
		for (const line of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
			if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
			const j = JSON.parse(line.slice(6));
			if (!j.choices || !j.choices.length) continue;
			const c = j.choices[0];
			out += (process.argv[2] === "chat" ? (c.delta && c.delta.content) : c.text) || "";
		}
		process.stdout.write(out);
	' "$1" "$2"
}
