#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# dist/nginx/llamux-upstream.conf in a real nginx on loopback in front of two
# llamuxd: requests spread over both (least_conn), streams pass through
# unbuffered, and when one llamuxd is killed mid-test every later request
# is still answered by the other.
. "$(dirname "$0")/lib.sh"

need_pkgs nginx curl || exit 1
command -v node >/dev/null || need_pkgs nodejs || exit 1
ROOT=$(pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

PA=$(free_port)
PB=$(free_port)
PN=$(free_port)
start_daemon a "$PA" --parallel 2 || exit 1
DA=$DPID
start_daemon b "$PB" --parallel 2 || exit 1
DB=$DPID

# The shipped file with this test's ports.
mkdir -p "$T/nginx/logs" "$T/nginx/tmp"
sed -e "s/127.0.0.1:8080/127.0.0.1:$PA/; s/127.0.0.1:8081/127.0.0.1:$PB/" \
	-e "s/listen 127.0.0.1:8000;/listen 127.0.0.1:$PN;/" \
	"$ROOT/dist/nginx/llamux-upstream.conf" >"$T/nginx/llamux-upstream.conf"
cat >"$T/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
	access_log $T/nginx/logs/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	include $T/nginx/llamux-upstream.conf;
}
CONF
chmod -R 777 "$T/nginx/tmp"
check "nginx accepts the configuration" "$NGINX" -t -q -p "$T/nginx" -c "$T/nginx/nginx.conf"
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx.log" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
# nginx's workers outlive a killed master: stop it gracefully first.
trap 'kill -QUIT "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; cleanup' EXIT
N=http://127.0.0.1:$PN
check "nginx answers" wait_health "$N" 10

# spread: 24 requests, 6 at a time, land on both services
cpids=""
for i in $(seq 1 24); do
	curl -s -o "$T/s$i.json" -w '%{http_code}' "$N/v1/completions" \
		-d '{"prompt":"Once upon a time","max_tokens":150,"temperature":0}' >"$T/s$i.code" &
	cpids="$cpids $!"
	if [ $((i % 6)) = 0 ]; then
		# shellcheck disable=SC2086
		wait $cpids
		cpids=""
	fi
done
okc=0
for i in $(seq 1 24); do [ "$(cat "$T/s$i.code")" = 200 ] && okc=$((okc + 1)); done
expect_eq "24 requests through nginx answered" 24 "$okc"
na=$(grep -c 'POST /v1/completions 200' "$T/a.log")
nb=$(grep -c 'POST /v1/completions 200' "$T/b.log")
echo "spread: $na on the first llamuxd, $nb on the second"
check "both llamuxd served requests" test "$na" -ge 4 -a "$nb" -ge 4

# a stream passes through: events, [DONE], the same text as a direct stream
curl -sN "$N/v1/completions" -d '{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"stream":true}' >"$T/ns.txt"
curl -sN "http://127.0.0.1:$PA/v1/completions" -d '{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"stream":true}' >"$T/ds.txt"
check "a stream through nginx ends with [DONE]" grep -q '^data: \[DONE\]' "$T/ns.txt"
expect_eq "... and carries the same text" "$(sse_text "$T/ds.txt" text)" "$(sse_text "$T/ns.txt" text)"
check "events arrive one by one (unbuffered)" test "$(grep -c '^data: ' "$T/ns.txt")" -gt 5

# kill one llamuxd in the middle of a stream of requests
cpids=""
for i in $(seq 1 40); do
	curl -s -o "$T/k$i.json" -w '%{http_code}' "$N/v1/chat/completions" \
		-d '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":60}' >"$T/k$i.code" &
	cpids="$cpids $!"
	if [ "$i" = 12 ]; then
		kill -9 "$DA"
		wait "$DA" 2>/dev/null
		echo "killed the first llamuxd after 12 requests were sent"
	fi
	if [ $((i % 4)) = 0 ]; then
		# shellcheck disable=SC2086
		wait $cpids
		cpids=""
	fi
done
answered=0
for i in $(seq 13 40); do [ "$(cat "$T/k$i.code")" = 200 ] && answered=$((answered + 1)); done
before=0
for i in $(seq 1 12); do [ "$(cat "$T/k$i.code")" = 200 ] && before=$((before + 1)); done
echo "requests 1-12: $before answered; after the kill, 13-40: $answered answered"
expect_eq "every request after the kill is answered by the other llamuxd" 28 "$answered"
check "requests in flight at the kill were retried on the other (non-stream)" test "$before" -eq 12
check "the survivor is healthy" wait_health "http://127.0.0.1:$PB" 5
kill -QUIT "$NPID"
wait "$NPID"
finish
