#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# llamuxd's system integration: the hardening of dist/llamuxd.service
# (systemd-analyze security exposure at most 2.5, the required settings),
# the units pass systemd-analyze verify, socket activation (sd_listen_fds)
# under systemd-socket-activate, journal priorities on stderr, the shipped
# example configuration, and the man pages (groff without warnings, every
# option documented).
. "$(dirname "$0")/lib.sh"

need_pkgs systemd curl groff-base || exit 1
ROOT=$(pwd)
UNIT=$ROOT/dist/llamuxd.service

out=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
level=$(sed -n 's/.*Overall exposure level for llamuxd.service: \([0-9.]*\).*/\1/p' <<<"$out")
echo "systemd-analyze security --offline=true dist/llamuxd.service: exposure $level"
check "exposure level is at most 2.5 ($level)" awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.5) }'
for s in DynamicUser=yes StateDirectory=llamux ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' SystemCallFilter=@system-service \
	MemoryDenyWriteExecute=yes CapabilityBoundingSet= Type=notify; do
	check "llamuxd.service sets $s" grep -qx "$s" "$UNIT"
done

# verify: the units with ExecStart pointing at this build
mkdir -p "$T/units"
sed "s|^ExecStart=/usr/sbin/llamuxd|ExecStart=$LLAMUXD|" "$UNIT" >"$T/units/llamuxd.service"
cp "$ROOT/dist/llamuxd.socket" "$T/units/"
systemd-analyze verify --man=no "$T/units/llamuxd.socket" "$T/units/llamuxd.service" >"$T/verify.txt" 2>&1
grep -v -e 'Failed to connect' -e 'bus' -e 'Cannot find unit' "$T/verify.txt" | grep -i 'llamuxd\.\(service\|socket\)' >"$T/verify-problems.txt"
check "systemd-analyze verify finds no problem in the units" test ! -s "$T/verify-problems.txt"
cat "$T/verify-problems.txt"
sed "s|^ExecStart=/usr/sbin/llamuxd --user|ExecStart=$LLAMUXD --user|" "$ROOT/dist/user/llamuxd.service" >"$T/units/user.service"
check "the user unit parses" sh -c "! systemd-analyze verify --man=no '$T/units/user.service' 2>&1 | grep -q 'user.service:'"

# socket activation: TCP and Unix sockets passed by systemd-socket-activate
P=$(free_port)
systemd-socket-activate -l "$T/act.sock" -l "127.0.0.1:$P" \
	"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port 1 --socket "$T/unused.sock" --no-dbus >"$T/act.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 100); do [ -S "$T/act.sock" ] && break; sleep 0.05; done
check "a passed TCP socket serves (the first request starts llamuxd)" wait_health "http://127.0.0.1:$P" 20
expect_eq "the passed Unix socket serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/act.sock" http://llamuxd/health)"
check "llamuxd used the sockets systemd passed" sh -c "grep -q 'listening on a Unix socket from systemd' '$T/act.log' && grep -q 'listening on a TCP socket from systemd' '$T/act.log'"
check "... instead of its own" test ! -e "$T/unused.sock"

# journal priorities: stderr is the journal when JOURNAL_STREAM matches it
P=$(free_port)
: >"$T/journal.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal.log") "$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" \
	--port "$P" --socket none --no-dbus 2>>"$T/journal.log" &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "http://127.0.0.1:$P" 20
kill -TERM "$DPID"; wait "$DPID"
check "log lines carry syslog priorities for the journal (<5>, <6>)" sh -c "grep -q '^<5>' '$T/journal.log' && grep -q '^<6>GET /health 200' '$T/journal.log'"

# the example configuration is accepted
P=$(free_port)
sed "s|^model = default|model = $ROOT/$MODEL|" "$ROOT/dist/llamux/llamuxd.conf" >"$T/example.conf"
"$LLAMUXD" --config "$T/example.conf" --port "$P" --socket none --no-dbus >"$T/example.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
check "dist/llamux/llamuxd.conf is a valid configuration" wait_health "http://127.0.0.1:$P" 20
kill -TERM "$DPID"; wait "$DPID"

# man pages: no groff warnings; every option of --help documented in both
for m in llamuxd.8 llamuxd.conf.5; do
	groff -man -Tutf8 -ww -z "$ROOT/dist/man/$m" >"$T/groff.txt" 2>&1
	check "$m renders without warnings" test ! -s "$T/groff.txt"
done
missing=""
for o in $("$LLAMUXD" --help | grep -o -- '--[a-z-]*' | sort -u); do
	grep -q -- "$(sed 's/-/\\\\-/g' <<<"$o")" "$ROOT/dist/man/llamuxd.8" || missing="$missing $o"
	case $o in --help | --version | --config | --user | --no-dbus | --no-mmap) continue ;; esac
	grep -q "^\.BI\? $(sed 's/^--//; s/-/\\\\-/g' <<<"$o")=" "$ROOT/dist/man/llamuxd.conf.5" || missing="$missing conf:$o"
done
expect_eq "every option is in llamuxd(8) and llamuxd.conf(5)" "" "$missing"
finish
