#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# llamuxd's HTTP API with curl: every endpoint, streamed and whole, greedy
# output equal to `llamux run`, equal alone and batched, seeds, stops,
# limits, UTF-8 in streams, OpenAI error shapes, the API key, /health 503
# while the model loads, the Unix socket and the per-request log line.
. "$(dirname "$0")/lib.sh"

need_pkgs curl || exit 1
command -v node >/dev/null || need_pkgs nodejs || exit 1

P=$(free_port)
B=http://127.0.0.1:$P

# ---- /health while loading, then ready
LLAMUXD_LOAD_DELAY_MS=1500 "$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" \
	--port "$P" --socket "$T/d.sock" --no-dbus --parallel 4 >>"$T/d.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
for i in $(seq 1 100); do
	code=$(curl -s -o "$T/h.json" -w '%{http_code}' "$B/health")
	[ "$code" != 000 ] && break
	sleep 0.02
done
expect_eq "/health is 503 while the model loads" 503 "$code"
expect_eq "/health says loading" loading "$(json "$T/h.json" j.status)"
code=$(curl -s -o "$T/e.json" -w '%{http_code}' "$B/v1/completions" -d '{"prompt":"x"}')
expect_eq "a completion while loading is 503" 503 "$code"
expect_eq "... with code model_loading" model_loading "$(json "$T/e.json" j.error.code)"
check "/health turns 200 when loaded" wait_health "$B" 20
expect_eq "/health says ok" ok "$(curl -s "$B/health" | node -pe 'JSON.parse(require("fs").readFileSync(0)).status')"

# ---- /v1/models
curl -s "$B/v1/models" >"$T/models.json"
expect_eq "/v1/models is a list" list "$(json "$T/models.json" j.object)"
expect_eq "/v1/models names the model" stories260K "$(json "$T/models.json" 'j.data[0].id')"
expect_eq "/v1/models entries are models" model "$(json "$T/models.json" 'j.data[0].object')"
expect_eq "GET /v1/models/stories260K" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$B/v1/models/stories260K")"
curl -s -o "$T/e.json" -w '%{http_code}' "$B/v1/models/nope" >"$T/code"
expect_eq "an unknown model is 404" 404 "$(cat "$T/code")"
expect_eq "... model_not_found" model_not_found "$(json "$T/e.json" j.error.code)"

# ---- /v1/completions: greedy output is llamux run's
PROMPT="Once upon a time"
curl -s "$B/v1/completions" -H 'Content-Type: application/json' \
	-d "{\"prompt\":\"$PROMPT\",\"max_tokens\":60,\"temperature\":0}" >"$T/c.json"
expect_eq "completion object" text_completion "$(json "$T/c.json" j.object)"
expect_eq "completion finish_reason length" length "$(json "$T/c.json" 'j.choices[0].finish_reason')"
expect_eq "completion usage: 60 tokens" 60 "$(json "$T/c.json" j.usage.completion_tokens)"
expect_eq "completion usage: total" "$(($(json "$T/c.json" j.usage.prompt_tokens) + 60))" "$(json "$T/c.json" j.usage.total_tokens)"
check "completion id starts with cmpl-" grep -q '"id":"cmpl-' "$T/c.json"
json "$T/c.json" 'j.choices[0].text' >"$T/c.txt"
if [ -n "$LLAMUX" ]; then
	"$LLAMUX" run -m "$MODEL" -p "$PROMPT" -n 60 --temp 0 2>/dev/null >"$T/run.txt"
	printf '%s%s\n' "$PROMPT" "$(cat "$T/c.txt")" >"$T/daemon.txt"
	check "greedy completion equals 'llamux run --temp 0'" cmp -s "$T/run.txt" "$T/daemon.txt"
fi

# ---- streamed completion: same text, [DONE], finish and usage
curl -sN "$B/v1/completions" \
	-d "{\"prompt\":\"$PROMPT\",\"max_tokens\":60,\"temperature\":0,\"stream\":true}" >"$T/cs.txt"
expect_eq "streamed completion text equals the whole one" "$(cat "$T/c.txt")" "$(sse_text "$T/cs.txt" text)"
expect_eq "stream ends with data: [DONE]" "data: [DONE]" "$(grep -v '^$' "$T/cs.txt" | tail -n 1)"
check "stream has a finish_reason" grep -q '"finish_reason":"length"' "$T/cs.txt"
check "stream carries usage" grep -q '"usage":{"prompt_tokens":[0-9]*,"completion_tokens":60' "$T/cs.txt"
check "stream events are text_completion" grep -q '"object":"text_completion"' "$T/cs.txt"
h=$(curl -sN -D - -o /dev/null "$B/v1/completions" -d '{"prompt":"x","max_tokens":2,"stream":true}')
check "stream content type is text/event-stream" grep -qi '^content-type: text/event-stream' <<<"$h"

# ---- chat completions
MSGS='[{"role":"system","content":"You tell stories."},{"role":"user","content":"Tell me about a cat."}]'
curl -s "$B/v1/chat/completions" -d "{\"model\":\"stories260K\",\"messages\":$MSGS,\"max_tokens\":40,\"temperature\":0}" >"$T/chat.json"
expect_eq "chat object" chat.completion "$(json "$T/chat.json" j.object)"
expect_eq "chat message role" assistant "$(json "$T/chat.json" 'j.choices[0].message.role')"
check "chat content is a non-empty string" test -n "$(json "$T/chat.json" 'j.choices[0].message.content')"
check "chat finish_reason is stop or length" grep -Eq '"finish_reason":"(stop|length)"' "$T/chat.json"
check "chat usage" test "$(json "$T/chat.json" 'j.usage.total_tokens === j.usage.prompt_tokens + j.usage.completion_tokens')" = true
check "chat id starts with chatcmpl-" grep -q '"id":"chatcmpl-' "$T/chat.json"
curl -sN "$B/v1/chat/completions" -d "{\"messages\":$MSGS,\"max_tokens\":40,\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" >"$T/chats.txt"
expect_eq "streamed chat equals the whole chat" "$(json "$T/chat.json" 'j.choices[0].message.content')" "$(sse_text "$T/chats.txt" chat)"
check "first chat chunk gives the role" sh -c "grep '^data: ' '$T/chats.txt' | head -n 1 | grep -q '\"delta\":{\"role\":\"assistant\"'"
check "chat chunks are chat.completion.chunk" grep -q '"object":"chat.completion.chunk"' "$T/chats.txt"
check "include_usage adds a usage chunk with no choices" grep -q '"choices":\[\],"usage"' "$T/chats.txt"
expect_eq "chat stream ends with [DONE]" "data: [DONE]" "$(grep -v '^$' "$T/chats.txt" | tail -n 1)"
curl -s "$B/v1/chat/completions" -d '{"messages":[{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}],"max_tokens":5}' -o "$T/parts.json" -w '%{http_code}' >"$T/code"
expect_eq "content given as text parts" 200 "$(cat "$T/code")"

# ---- sampling: seeds reproduce, max_tokens, stop strings
s1=$(curl -s "$B/v1/completions" -d '{"prompt":"The dog","max_tokens":40,"temperature":0.9,"seed":42}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).choices[0].text')
s2=$(curl -s "$B/v1/completions" -d '{"prompt":"The dog","max_tokens":40,"temperature":0.9,"seed":42}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).choices[0].text')
expect_eq "the same seed gives the same text" "$s1" "$s2"
different=0
for seed in 43 44 45; do
	s3=$(curl -s "$B/v1/completions" -d "{\"prompt\":\"The dog\",\"max_tokens\":40,\"temperature\":0.9,\"seed\":$seed}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).choices[0].text')
	[ "$s3" != "$s1" ] && different=1
done
expect_eq "other seeds give other texts" 1 "$different"
full=$(cat "$T/c.txt")
stopword=$(node -e 'const w = process.argv[1].split(" ").filter(x => x.length > 3); process.stdout.write(w[Math.floor(w.length / 2)])' "$full")
curl -s "$B/v1/completions" -d "{\"prompt\":\"$PROMPT\",\"max_tokens\":60,\"temperature\":0,\"stop\":[\"zzzz\",\"$stopword\"]}" >"$T/stop.json"
expect_eq "a stop string cuts the text before it" "${full%%"$stopword"*}" "$(json "$T/stop.json" 'j.choices[0].text')"
expect_eq "... with finish_reason stop" stop "$(json "$T/stop.json" 'j.choices[0].finish_reason')"
curl -sN "$B/v1/completions" -d "{\"prompt\":\"$PROMPT\",\"max_tokens\":60,\"temperature\":0,\"stop\":\"$stopword\",\"stream\":true}" >"$T/stops.txt"
expect_eq "streams stop at the stop string too" "${full%%"$stopword"*}" "$(sse_text "$T/stops.txt" text)"
expect_eq "max_tokens 7 gives 7 tokens" 7 "$(curl -s "$B/v1/completions" -d '{"prompt":"Hi","max_tokens":7,"temperature":0}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).usage.completion_tokens')"

# ---- greedy output alone equals output batched with others
prompts=("Once upon a time" "The little dog" "Lily and Ben went" "One day, a big")
for i in 0 1 2 3; do
	curl -s "$B/v1/completions" -d "{\"prompt\":\"${prompts[$i]}\",\"max_tokens\":300,\"temperature\":0}" >"$T/alone$i.json"
	json "$T/alone$i.json" 'j.choices[0].text' >"$T/alone$i.txt"
done
m0=$(curl -s "$B/metrics")
for round in 1 2 3; do
	cpids=""
	for i in 0 1 2 3; do
		curl -s "$B/v1/completions" -d "{\"prompt\":\"${prompts[$i]}\",\"max_tokens\":300,\"temperature\":0}" -o "$T/batch$round-$i.json" &
		cpids="$cpids $!"
	done
	# shellcheck disable=SC2086
	wait $cpids
done
m1=$(curl -s "$B/metrics")
same=1
for round in 1 2 3; do
	for i in 0 1 2 3; do
		json "$T/batch$round-$i.json" 'j.choices[0].text' >"$T/batched.txt"
		cmp -s "$T/alone$i.txt" "$T/batched.txt" || same=0
	done
done
expect_eq "greedy output is the same alone and batched (4 prompts x 3 rounds)" 1 "$same"
rows=$(( $(grep '^llamux_decode_rows_total' <<<"$m1" | cut -d' ' -f2) - $(grep '^llamux_decode_rows_total' <<<"$m0" | cut -d' ' -f2) ))
steps=$(( $(grep '^llamux_decode_steps_total' <<<"$m1" | cut -d' ' -f2) - $(grep '^llamux_decode_steps_total' <<<"$m0" | cut -d' ' -f2) ))
echo "concurrent phase: $rows rows in $steps batched steps"
check "concurrent requests were decoded in shared batches" test "$rows" -gt "$((steps * 3 / 2))"

# ---- UTF-8: random sampling meets byte tokens; no event splits a character
for seed in 1 2 3 4 5 6; do
	curl -sN "$B/v1/completions" -d "{\"prompt\":\"é ü 漢字\",\"max_tokens\":400,\"temperature\":3,\"top_k\":0,\"top_p\":1,\"min_p\":0,\"seed\":$seed,\"stream\":true}" >"$T/u$seed.txt"
	curl -s "$B/v1/completions" -d "{\"prompt\":\"é ü 漢字\",\"max_tokens\":400,\"temperature\":3,\"top_k\":0,\"top_p\":1,\"min_p\":0,\"seed\":$seed}" >"$T/u$seed.json"
done
check "every streamed event is whole UTF-8 and the stream equals the whole text" node -e '
	const fs = require("fs");
	const dec = new TextDecoder("utf-8", { fatal: true });
	let nonascii = 0;
	for (let s = 1; s <= 6; s++) {
		const raw = fs.readFileSync(process.argv[1] + "/u" + s + ".txt");
		let text = "";
		for (const line of raw.toString("latin1").split("\n")) {
			if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
			const str = dec.decode(Buffer.from(line, "latin1"));	/* throws on broken UTF-8 */
			const c = JSON.parse(str.slice(6)).choices[0];
			text += c.text;
			for (const ch of c.text) if (ch.codePointAt(0) > 127) nonascii++;
		}
		const whole = JSON.parse(dec.decode(fs.readFileSync(process.argv[1] + "/u" + s + ".json"))).choices[0].text;
		if (whole !== text) { console.error("seed " + s + ": stream differs from whole"); process.exit(1); }
	}
	console.log("non-ASCII characters streamed: " + nonascii);
	process.exit(nonascii > 0 ? 0 : 1);
' "$T"

# ---- tokenize / detokenize
curl -s "$B/tokenize" -d '{"content":"Hello world"}' >"$T/tok.json"
check "tokenize gives token ids" test "$(json "$T/tok.json" 'Array.isArray(j.tokens) && j.tokens.length > 1 && j.tokens[0] === 1')" = true
toks=$(curl -s "$B/tokenize" -d '{"content":"Hello world","add_special":false}' | node -pe 'JSON.stringify(JSON.parse(require("fs").readFileSync(0)).tokens)')
expect_eq "detokenize inverts tokenize" " Hello world" "$(curl -s "$B/detokenize" -d "{\"tokens\":$toks}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).content')"
check "tokenize with_pieces" sh -c "curl -s '$B/tokenize' -d '{\"content\":\"Hi\",\"with_pieces\":true}' | grep -q '\"piece\"'"

# ---- /metrics (Prometheus text)
curl -s -D "$T/mh.txt" "$B/metrics" >"$T/metrics.txt"
check "metrics content type" grep -qi '^content-type: text/plain; version=0.0.4' "$T/mh.txt"
for m in llamux_requests_total llamux_generated_tokens_total llamux_prompt_tokens_total \
	llamux_queue_depth llamux_generation_tokens_per_second llamux_prompt_tokens_per_second \
	llamux_errors_total llamux_slots_busy llamux_decode_steps_total; do
	check "metric $m" grep -q "^$m" "$T/metrics.txt"
done
check "metrics: every sample line is 'name{labels} value'" node -e '
	const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(l => l && !l.startsWith("#"));
	process.exit(lines.every(l => /^[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+$/.test(l)) ? 0 : 1);
' "$T/metrics.txt"
check "metrics count generated tokens" test "$(grep '^llamux_generated_tokens_total' "$T/metrics.txt" | cut -d' ' -f2)" -gt 1000

# ---- errors: OpenAI's error object with the right status
# err_case DESCRIPTION STATUS TYPE PATH BODY [CURL ARGS...]
err_case() {
	local d=$1 st=$2 ty=$3 path=$4 body=$5 code
	shift 5
	code=$(curl -s -o "$T/err.json" -w '%{http_code}' "$@" "$B$path" ${body:+--data-binary "$body"})
	if [ "$code" = "$st" ] && [ "$(json "$T/err.json" "typeof j.error.message === 'string' && j.error.message.length > 0 && j.error.type === '$ty' && 'param' in j.error && 'code' in j.error")" = true ]; then
		ok "$d ($st)"
	else
		bad "$d: want $st $ty, got $code $(cat "$T/err.json")"
	fi
}
err_case "malformed JSON" 400 invalid_request_error /v1/chat/completions '{"messages": ['
err_case "a JSON array body" 400 invalid_request_error /v1/completions '[1,2]'
err_case "an empty body" 400 invalid_request_error /v1/completions '' -X POST
err_case "messages missing" 400 invalid_request_error /v1/chat/completions '{"model":"x"}'
err_case "messages of the wrong type" 400 invalid_request_error /v1/chat/completions '{"messages":"hi"}'
err_case "an unknown role" 400 invalid_request_error /v1/chat/completions '{"messages":[{"role":"robot","content":"x"}]}'
err_case "temperature as a string" 400 invalid_request_error /v1/completions '{"prompt":"x","temperature":"hot"}'
err_case "max_tokens as a string" 400 invalid_request_error /v1/completions '{"prompt":"x","max_tokens":"10"}'
err_case "stream as a string" 400 invalid_request_error /v1/completions '{"prompt":"x","stream":"yes"}'
err_case "top_p out of range" 400 invalid_request_error /v1/completions '{"prompt":"x","top_p":2}'
err_case "n = 2" 400 invalid_request_error /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"n":2}'
err_case "stop of the wrong type" 400 invalid_request_error /v1/completions '{"prompt":"x","stop":7}'
err_case "prompt missing" 400 invalid_request_error /v1/completions '{"max_tokens":3}'
err_case "detokenize of a bad token" 400 invalid_request_error /detokenize '{"tokens":[1,999999]}'
err_case "an unknown path" 404 invalid_request_error /v1/nothing ''
err_case "GET on a POST endpoint" 405 invalid_request_error /v1/chat/completions '' -X GET
err_case "a non-JSON content type" 415 invalid_request_error /v1/completions '{"prompt":"x"}' -H 'Content-Type: image/png'
json "$T/err.json" j.error.param >/dev/null
code=$(curl -s -o /dev/null -D "$T/allow.txt" -w '%{http_code}' -X PUT "$B/health")
check "405 names the allowed methods" grep -qi '^allow: GET' "$T/allow.txt"
curl -s -o "$T/err.json" "$B/v1/completions" -d '{"prompt":"x","temperature":"hot"}'
expect_eq "the error names the parameter" temperature "$(json "$T/err.json" j.error.param)"

kill -TERM "$DPID"; wait "$DPID"; rc=$?
expect_eq "SIGTERM exits 0" 0 "$rc"
check "one log line per request: method, path, status, tokens, ms" \
	grep -Eq 'POST /v1/completions 200 job=[0-9]+ tokens=[0-9]+\+60 ms=[0-9.]+' "$T/d.log"

# ---- context overflow: 400 saying how many tokens were sent and allowed
P2=$(free_port)
start_daemon small "$P2" --ctx-size 64 --parallel 2 || exit 1
long=$(printf 'the cat sat on the mat %.0s' $(seq 1 40))
sent=$(curl -s "http://127.0.0.1:$P2/tokenize" -d "{\"content\":\"$long\"}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).tokens.length')
code=$(curl -s -o "$T/ctx.json" -w '%{http_code}' "http://127.0.0.1:$P2/v1/completions" -d "{\"prompt\":\"$long\"}")
expect_eq "a prompt longer than the context is 400" 400 "$code"
expect_eq "... code context_length_exceeded" context_length_exceeded "$(json "$T/ctx.json" j.error.code)"
check "... the message says $sent tokens were sent and 64 allowed" \
	sh -c "grep -q 'maximum context length is 64 tokens' '$T/ctx.json' && grep -q 'you sent $sent tokens' '$T/ctx.json'"
expect_eq "a generation that fills the context stops with length" length "$(curl -s "http://127.0.0.1:$P2/v1/completions" -d '{"prompt":"Once","max_tokens":500,"temperature":0}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).choices[0].finish_reason')"
kill -TERM "$DPID"; wait "$DPID"

# ---- API key: required on TCP when set; /health and the Unix socket open
P3=$(free_port)
start_daemon auth "$P3" --api-key 'sekret-key' || exit 1
A=http://127.0.0.1:$P3
code=$(curl -s -o "$T/a.json" -D "$T/ah.txt" -w '%{http_code}' "$A/v1/models")
expect_eq "no key: 401" 401 "$code"
expect_eq "... invalid_api_key" invalid_api_key "$(json "$T/a.json" j.error.code)"
check "... with WWW-Authenticate: Bearer" grep -qi '^www-authenticate: Bearer' "$T/ah.txt"
expect_eq "a wrong key: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret-kez' "$A/v1/models")"
expect_eq "a longer wrong key: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret-key2' "$A/v1/models")"
expect_eq "a key without Bearer: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: sekret-key' "$A/v1/models")"
expect_eq "the right key: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret-key' "$A/v1/models")"
expect_eq "the right key on a completion: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret-key' "$A/v1/completions" -d '{"prompt":"x","max_tokens":3}')"
expect_eq "no key on a completion: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$A/v1/completions" -d '{"prompt":"x","max_tokens":3}')"
expect_eq "no key on /metrics: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$A/metrics")"
expect_eq "/health needs no key" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$A/health")"
expect_eq "the Unix socket needs no key" 200 "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/auth.sock" http://llamuxd/v1/completions -d '{"prompt":"x","max_tokens":3}')"
curl -s --unix-socket "$T/auth.sock" http://llamuxd/v1/completions -d "{\"prompt\":\"$PROMPT\",\"max_tokens\":60,\"temperature\":0}" >"$T/uc.json"
expect_eq "the Unix socket gives the same greedy text" "$(cat "$T/c.txt")" "$(json "$T/uc.json" 'j.choices[0].text')"
check "the Unix socket has mode 0666" test "$(stat -c %a "$T/auth.sock")" = 666
kill -TERM "$DPID"; wait "$DPID"
check "the Unix socket is removed at exit" test ! -e "$T/auth.sock"

finish
