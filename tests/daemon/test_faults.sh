#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# llamuxd under faults: malformed JSON, wrong types, a 10 MB body (with a
# length and chunked), slow-loris clients, clients that leave mid-stream or
# mid-request (their generation is cancelled within a token), a full queue
# (503 with Retry-After), the per-request time limit, kill -9 and restart,
# SIGTERM with requests running, SIGHUP and the configuration files. After
# each the service keeps serving. Also --no-mmap (the model read in).
. "$(dirname "$0")/lib.sh"

need_pkgs curl || exit 1
command -v node >/dev/null || need_pkgs nodejs || exit 1
SLOW_MODEL=../shared/models/tiny-f32.gguf

healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/v1/completions" -d '{"prompt":"Once","max_tokens":5}')" = 200 ]; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

P=$(free_port)
B=http://127.0.0.1:$P
start_daemon d "$P" --idle-timeout 2 || exit 1

# ---- malformed JSON and wrong types: 400 each, then still serving
i=0
for body in '{' '{"prompt":}' '{"prompt":"x",}' 'null' '"text"' '12' '{"prompt":"x"} {"prompt":"y"}' \
	"$(printf '[%.0s' $(seq 1 5000))" "$(printf '{"a":%.0s' $(seq 1 2000))" \
	$'{"prompt":"\xff\xfe"}' '{"prompt":"x","max_tokens":1e999}' '{"prompt":["a","b"]}' \
	'{"prompt":5}' '{"prompt":"x","seed":1.5}' '{"prompt":"x","stop":[1]}' \
	'{"prompt":"x","temperature":-1}' '{"prompt":"x","stream_options":3}' \
	'{"messages":[5]}' '{"messages":[{"role":"user","content":7}]}'; do
	i=$((i + 1))
	case $body in *messages*) path=/v1/chat/completions ;; *) path=/v1/completions ;; esac
	code=$(curl -s -o "$T/e.json" -w '%{http_code}' "$B$path" --data-binary "$body")
	if [ "$code" = 400 ] && grep -q '"type":"invalid_request_error"' "$T/e.json"; then
		ok "bad body $i: 400 invalid_request_error"
	else
		bad "bad body $i (${body:0:40}): got $code $(head -c 200 "$T/e.json")"
	fi
done
check "serving after the bad bodies" healthy "$B"

# ---- a 10 MB body: 413 before it is read, or while chunks arrive
head -c 10485760 /dev/zero | tr '\0' 'a' >"$T/big.txt"
rss0=$(rss_kb "$DPID")
for n in 1 2 3; do
	code=$(curl -s -o "$T/e.json" -w '%{http_code}' "$B/v1/completions" -H 'Content-Type: application/json' --data-binary @"$T/big.txt")
	expect_eq "10 MB body with Content-Length: 413 ($n)" 413 "$code"
	code=$(curl -s -o "$T/e2.json" -w '%{http_code}' "$B/v1/completions" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @"$T/big.txt")
	expect_eq "10 MB chunked body: 413 ($n)" 413 "$code"
done
check "413 is an error object (request_too_large)" grep -q '"code":"request_too_large"' "$T/e.json"
check "chunked 413 is an error object" grep -q '"code":"request_too_large"' "$T/e2.json"
rss1=$(rss_kb "$DPID")
echo "RSS before/after the big bodies: $rss0 / $rss1 kB"
if [ -n "${LLAMUXD_SANITIZED:-}" ]; then
	# ASan keeps freed memory in quarantine, so RSS says nothing here;
	# LeakSanitizer checks at exit instead.
	echo "skip: RSS growth under ASan (quarantine); measured in the normal build"
else
	check "big bodies are not kept (RSS grew $((rss1 - rss0)) kB)" test $((rss1 - rss0)) -lt 8192
fi
check "serving after the big bodies" healthy "$B"

# ---- slow-loris: 40 clients trickle headers; others are served meanwhile
lpids=""
for i in $(seq 1 40); do
	(
		exec 3<>"/dev/tcp/127.0.0.1/$P" || exit 0
		for c in P O S T ' ' / v 1 / c o m p l; do
			printf %s "$c" >&3 2>/dev/null || exit 0
			sleep 0.5
		done
	) 2>/dev/null &
	lpids="$lpids $!"
done
sleep 1
t0=$(now_ms)
all=1
for i in 1 2 3 4 5; do healthy "$B" || all=0; done
t1=$(now_ms)
expect_eq "5 requests answered while 40 slow-loris clients trickle" 1 "$all"
check "... quickly ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 5000
conns=$(metric "$B" llamux_http_connections)
check "the slow clients hold connections ($conns)" test "$conns" -ge 20
# shellcheck disable=SC2086
kill $lpids 2>/dev/null
# shellcheck disable=SC2086
wait $lpids 2>/dev/null
t0=$(now_ms)
timeout 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; printf 'GET /hea' >&3; cat <&3 >/dev/null"
t1=$(now_ms)
check "a connection that stops sending is closed after the idle timeout ($((t1 - t0)) ms)" \
	test $((t1 - t0)) -ge 1500 -a $((t1 - t0)) -lt 8000
check "serving after the slow-loris clients" healthy "$B"
kill -TERM "$DPID"; wait "$DPID"
expect_eq "SIGTERM exits 0 after the faults" 0 "$?"

# ---- slow generations from here on: tiny-f32 with long contexts
P=$(free_port)
B=http://127.0.0.1:$P
MODEL=$SLOW_MODEL start_daemon slow "$P" --ctx-size 4096 --parallel 2 --queue 1 || exit 1

# a client that leaves mid-stream: cancelled within a token, slot freed
curl -sN "$B/v1/completions" -d '{"prompt":"Once","max_tokens":4000,"temperature":0,"stream":true}' | head -n 20 >/dev/null
sleep 1
line=$(grep 'stream sent=' "$T/slow.log" | grep cancelled | tail -n 1)
job=$(sed -n 's/.* job=\([0-9]*\) .*/\1/p' <<<"$line")
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$line")
gen=$(sed -n "s/.*job $job cancelled after \([0-9]*\) tokens.*/\1/p" "$T/slow.log")
at=$(sed -n "s/.*job $job cancelled after [0-9]* tokens (\([0-9]*\) when cancelled).*/\1/p" "$T/slow.log")
echo "disconnect mid-stream: job $job sent $sent events; hang-up seen at token $at, stopped at $gen"
check "the stream's job was cancelled" test -n "$gen"
check "generation stopped within one token of the hang-up ($gen <= $at + 1)" test "${gen:-99999}" -le $((${at:-0} + 1))
check "and stopped long before max_tokens" test "${gen:-99999}" -lt 3000
expect_eq "its slot is free again" 0 "$(metric "$B" llamux_slots_busy)"

# a client that leaves a whole (non-stream) request
curl -s --max-time 0.5 "$B/v1/completions" -d '{"prompt":"Once","max_tokens":4000,"temperature":0}' >/dev/null
sleep 1
gen=$(grep -o 'job [0-9]* cancelled after [0-9]* tokens' "$T/slow.log" | tail -n 1)
check "a request whose client left is cancelled ($gen)" test -n "$gen" -a "$(grep -c 'cancelled after' "$T/slow.log")" -ge 2
check "cancellations are counted" test "$(metric "$B" llamux_requests_cancelled_total)" -ge 2
expect_eq "no slot stays busy" 0 "$(metric "$B" llamux_slots_busy)"

# a full queue: 2 slots + 1 waiting; the rest get 503 with Retry-After
cpids=""
for i in 1 2 3 4 5 6; do
	curl -s -D "$T/q$i.h" -o "$T/q$i.json" -w '%{http_code}' "$B/v1/completions" -d '{"prompt":"Once","max_tokens":400,"temperature":0}' >"$T/q$i.code" &
	cpids="$cpids $!"
done
# shellcheck disable=SC2086
wait $cpids
n200=0
n503=0
for i in 1 2 3 4 5 6; do
	case $(cat "$T/q$i.code") in
	200) n200=$((n200 + 1)) ;;
	503) grep -qi '^retry-after: ' "$T/q$i.h" && grep -q '"code":"server_busy"' "$T/q$i.json" && n503=$((n503 + 1)) ;;
	esac
done
echo "6 requests at once on 2 slots + queue 1: $n200 answered, $n503 refused"
expect_eq "each got 200 or a clean 503 (server_busy, Retry-After)" 6 $((n200 + n503))
check "some waited in the queue and were answered" test "$n200" -ge 3
check "some were refused" test "$n503" -ge 1
check "rejections are counted" test "$(metric "$B" 'llamux_errors_total{kind="rejected"}')" -ge 1
kill -TERM "$DPID"; wait "$DPID"

# the per-request time limit
P=$(free_port)
B=http://127.0.0.1:$P
MODEL=$SLOW_MODEL start_daemon timeout "$P" --ctx-size 4096 --timeout 1 --max-tokens 100000 || exit 1
t0=$(now_ms)
curl -s "$B/v1/completions" -d '{"prompt":"Once","max_tokens":100000,"temperature":0}' >"$T/t.json"
t1=$(now_ms)
expect_eq "a request over its time limit ends with length" length "$(json "$T/t.json" 'j.choices[0].finish_reason')"
check "... after about a second ($((t1 - t0)) ms, $(json "$T/t.json" j.usage.completion_tokens) tokens)" test $((t1 - t0)) -lt 4000
check "timeouts are counted" test "$(metric "$B" 'llamux_errors_total{kind="timeout"}')" -ge 1
kill -TERM "$DPID"; wait "$DPID"

# ---- SIGTERM: running requests finish, new ones are refused, exit 0
P=$(free_port)
B=http://127.0.0.1:$P
MODEL=$SLOW_MODEL start_daemon term "$P" --ctx-size 4096 --grace-period 300 || exit 1
curl -s "$B/v1/completions" -d '{"prompt":"Once","max_tokens":300,"temperature":0}' >"$T/term1.json" &
c1=$!
curl -sN "$B/v1/completions" -d '{"prompt":"Once","max_tokens":300,"temperature":0,"stream":true}' >"$T/term2.txt" &
c2=$!
for i in $(seq 1 100); do
	[ "$(metric "$B" llamux_slots_busy)" = 2 ] && break
	sleep 0.1
done
kill -TERM "$DPID"
sleep 0.1
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/v1/completions" -d '{"prompt":"x","max_tokens":2}')
check "new requests are refused while stopping (got $code)" test "$code" = 000 -o "$code" = 503
wait "$c1" "$c2"
expect_eq "a running request completes during the grace period" 300 "$(json "$T/term1.json" j.usage.completion_tokens)"
check "a running stream completes with [DONE]" grep -q '^data: \[DONE\]' "$T/term2.txt"
wait "$DPID"
expect_eq "llamuxd exits 0 after SIGTERM" 0 "$?"

P=$(free_port)
B=http://127.0.0.1:$P
MODEL=$SLOW_MODEL start_daemon grace "$P" --ctx-size 4096 --grace-period 1 --max-tokens 100000 || exit 1
curl -s "$B/v1/completions" -d '{"prompt":"Once","max_tokens":100000,"temperature":0}' >"$T/g.json" &
c1=$!
# until the request is generating (on a busy machine curl can take longer
# than a fixed sleep to connect, and a stopping llamuxd takes no new ones)
for i in $(seq 1 100); do
	[ "$(metric "$B" llamux_slots_busy)" = 1 ] && break
	sleep 0.1
done
t0=$(now_ms)
kill -TERM "$DPID"
wait "$DPID"
rc=$?
t1=$(now_ms)
wait "$c1"
expect_eq "past the grace period llamuxd still exits 0" 0 "$rc"
check "... after about the grace period ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 5000
check "the cut request got an answer" test -s "$T/g.json"

# ---- kill -9, then restart on the same port and socket
P=$(free_port)
B=http://127.0.0.1:$P
start_daemon k "$P" || exit 1
curl -sN "$B/v1/completions" -d '{"prompt":"Once","max_tokens":2000,"stream":true}' >/dev/null &
c1=$!
sleep 0.05
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
wait "$c1" 2>/dev/null
check "the socket file is left behind by kill -9" test -S "$T/k.sock"
start_daemon k "$P" || exit 1
check "restarted: serving on TCP" healthy "$B"
expect_eq "restarted: serving on the Unix socket" 200 "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/k.sock" http://llamuxd/v1/completions -d '{"prompt":"x","max_tokens":3}')"
check "the stale socket was replaced" grep -q "listening on unix:$T/k.sock" "$T/k.log"
"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port 0 --socket "$T/k.sock" --no-dbus >"$T/k2.out" 2>&1 &
k2=$!
PIDS="$PIDS $k2"
sleep 0.5
check "a second llamuxd leaves a live socket alone" grep -q "another service answers there" "$T/k2.out"
kill -9 "$k2"
wait "$k2" 2>/dev/null
kill -TERM "$DPID"; wait "$DPID"

# ---- configuration: drop-ins in order, flags win, SIGHUP reloads
mkdir -p "$T/c.conf.d"
printf '# test\napi-key = one\nqueue = 5\n' >"$T/c.conf"
printf 'queue = 6\n' >"$T/c.conf.d/10-a.conf"
printf 'queue = 7\n' >"$T/c.conf.d/20-b.conf"
printf 'queue = 99\n' >"$T/c.conf.d/30-c.conf.off"
P=$(free_port)
B=http://127.0.0.1:$P
"$LLAMUXD" --config "$T/c.conf" -m "$MODEL" --port "$P" --socket none --no-dbus >"$T/cfg.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "$B" 20
K1=(-H 'Authorization: Bearer one')
K2=(-H 'Authorization: Bearer two')
expect_eq "the later drop-in wins (queue 7)" 7 "$(curl -s "${K1[@]}" "$B/metrics" | awk '$1 == "llamux_queue_capacity" { print $2 }')"
expect_eq "api-key from the file" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${K1[@]}" "$B/v1/models")"
printf 'queue = 7\napi-key = two\n' >"$T/c.conf.d/20-b.conf"
kill -HUP "$DPID"
sleep 0.5
expect_eq "after SIGHUP the new key works" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${K2[@]}" "$B/v1/models")"
expect_eq "after SIGHUP the old key is refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' "${K1[@]}" "$B/v1/models")"
printf 'no-such-option = 1\n' >"$T/c.conf.d/40-bad.conf"
kill -HUP "$DPID"
sleep 0.5
check "a bad file on reload is reported with file:line" grep -q "40-bad.conf:1: unknown option 'no-such-option'" "$T/cfg.log"
expect_eq "... and the old configuration stays" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${K2[@]}" "$B/v1/models")"
kill -TERM "$DPID"; wait "$DPID"
expect_eq "exit 0 after reloads" 0 "$?"
"$LLAMUXD" --config "$T/c.conf" -m "$MODEL" --port 0 --socket none --no-dbus >"$T/bad.log" 2>&1
expect_eq "a bad configuration at start: exit 1" 1 "$?"
rm "$T/c.conf.d/40-bad.conf"
P=$(free_port)
"$LLAMUXD" --config "$T/c.conf" -m "$MODEL" --port "$P" --socket none --no-dbus --queue 3 --api-key three >"$T/flags.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "http://127.0.0.1:$P" 20
expect_eq "flags override the files (queue 3)" 3 "$(curl -s -H 'Authorization: Bearer three' "http://127.0.0.1:$P/metrics" | awk '$1 == "llamux_queue_capacity" { print $2 }')"
kill -HUP "$DPID"
sleep 0.5
expect_eq "... also after a reload" 3 "$(curl -s -H 'Authorization: Bearer three' "http://127.0.0.1:$P/metrics" | awk '$1 == "llamux_queue_capacity" { print $2 }')"
kill -TERM "$DPID"; wait "$DPID"
"$LLAMUXD" --port 1 --config "$T/empty.conf" >/dev/null 2>"$T/nomodel.txt"
expect_eq "no model: usage error 2" 2 "$?"
"$LLAMUXD" -m "$MODEL" --parallel 0 --config "$T/empty.conf" >/dev/null 2>"$T/range.txt"
expect_eq "--parallel 0: usage error 2" 2 "$?"
check "... saying the range" grep -q 'parallel must be between 1 and 64' "$T/range.txt"
P=$(free_port)
"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port "$P" --socket none --no-dbus >"$T/p1.log" 2>&1 &
p1=$!
PIDS="$PIDS $p1"
wait_health "http://127.0.0.1:$P" 20
"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port "$P" --socket none --no-dbus >"$T/p2.log" 2>&1
expect_eq "a port in use: exit 1" 1 "$?"
check "... saying so" grep -q "cannot listen on 127.0.0.1 port $P" "$T/p2.log"
kill -TERM "$p1"; wait "$p1"

# ---- --no-mmap: the model read into memory, not mapped; the same text
greedy='{"prompt":"Once upon a time","max_tokens":24,"temperature":0}'
P=$(free_port)
start_daemon mapped "$P" || exit 1
check "by default the model file is mapped" grep -q "$(basename "$MODEL")\$" "/proc/$DPID/maps"
curl -s "http://127.0.0.1:$P/v1/completions" -d "$greedy" >"$T/mapped.json"
stop_daemon "$DPID" >/dev/null
P=$(free_port)
start_daemon readin "$P" --no-mmap || exit 1
check "--no-mmap: the model file is not mapped" not grep -q "$(basename "$MODEL")\$" "/proc/$DPID/maps"
curl -s "http://127.0.0.1:$P/v1/completions" -d "$greedy" >"$T/readin.json"
a=$(json "$T/mapped.json" 'j.choices[0].text')
expect_eq "--no-mmap: the same greedy text as mapped" "$a" "$(json "$T/readin.json" 'j.choices[0].text')"
check "... and some text" test -n "$a"
stop_daemon "$DPID" >/dev/null

finish
