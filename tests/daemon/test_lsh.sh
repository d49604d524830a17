#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# lsh's model fallback through llamuxd (lsh/model_remote.c): --version names
# the daemon, a request no intent matches reaches POST /v1/completions over
# the Unix socket, and whatever the model says is only proposed, never run.
# A fake llamuxd (node) checks the request lsh sends and the filter of the
# answer: first line only, printable ASCII only, errors passed on. Without a
# daemon, --backend daemon (and kernel, without /dev/llamux) fail clearly.
# Needs $LSH, the lsh program (set by tests/daemon/daemon_tests.cmake).
. "$(dirname "$0")/lib.sh"

need_pkgs curl || exit 1
[ -n "${LSH:-}" ] && [ -x "$LSH" ] || { echo "needs LSH=path/to/lsh in the environment"; exit 1; }
unset LLAMUX_MODEL LSH_BACKEND
MODEL_ABS=$(realpath "$MODEL")

P=$(free_port)
start_daemon d "$P" || exit 1
export LLAMUX_SOCKET="$T/d.sock"
mkdir -p "$T/work"
: > "$T/work/canary.txt"
REQ="fly me to the moon please"

gen_count() {
	curl -s --unix-socket "$LLAMUX_SOCKET" http://llamuxd/metrics |
		awk '$1 == "llamux_generation_requests_total" { print $2 }'
}
posts() { grep -c 'POST /v1/completions 200 .* unix' "$T/d.log"; }
# proposal_or_refusal RC OUT ERR: the 3-line contract, or a refusal on stderr.
proposal_or_refusal() {
	if [ "$1" = 0 ]; then
		[ "$(wc -l <"$2")" = 3 ] && sed -n 1p "$2" | grep -q . &&
			sed -n 2p "$2" | grep -Eq '^# (safe$|risky: )' &&
			sed -n 3p "$2" | grep -q '^# '
	else
		[ "$1" = 2 ] && [ ! -s "$2" ] &&
			grep -Eq "^lsh: the model('s answer does not parse as shell|'s answer is not a command this system has| gave no command|'s answer has a byte)" "$3"
	fi
}

# ---- the real daemon
out=$("$LSH" --version)
check "--version names the daemon fallback ($out)" grep -q "model fallback: llamuxd on $T/d.sock\$" <<<"$out"
out=$(LSH_BACKEND=daemon "$LSH" --version)
check "LSH_BACKEND=daemon: the same" grep -q "model fallback: llamuxd on $T/d.sock\$" <<<"$out"
out=$("$LSH" --backend none --version)
check "--backend none: no model" grep -q "; no model (works without one" <<<"$out"

n0=$(gen_count)
p0=$(posts)
(cd "$T/work" && "$LSH" --dry-run -c "$REQ" >"$T/out.txt" 2>"$T/err.txt")
rc=$?
echo "dry-run: exit $rc; stdout: $(cat "$T/out.txt"); stderr: $(cat "$T/err.txt")"
expect_eq "the daemon logged one POST /v1/completions over the socket" $((p0 + 1)) "$(posts)"
expect_eq "llamux_generation_requests_total rose by one" $((n0 + 1)) "$(gen_count)"
check "a 3-line proposal, or a refusal on stderr" proposal_or_refusal "$rc" "$T/out.txt" "$T/err.txt"
check "--dry-run asks nothing" not grep -q 'Run it\|type yes' "$T/out.txt"

# Not a dry run, with no one to confirm: still nothing runs.
(cd "$T/work" && "$LSH" -c "$REQ" </dev/null >"$T/out.txt" 2>"$T/err.txt")
rc=$?
echo "no confirmation: exit $rc; stdout: $(cat "$T/out.txt"); stderr: $(cat "$T/err.txt")"
expect_eq "the daemon was asked again" $((p0 + 2)) "$(posts)"
if [ "$rc" = 2 ]; then
	check "... and the answer was refused" proposal_or_refusal "$rc" "$T/out.txt" "$T/err.txt"
else
	expect_eq "... and the proposal was not confirmed" 1 "$rc"
	check "... so it says Not run" grep -q '^Not run\.$' "$T/out.txt"
fi
expect_eq "nothing ran in the working directory" "canary.txt" "$(ls -A "$T/work")"

# ---- a fake llamuxd: what lsh sends, and the filter of what comes back
node -e '
	const http = require("http"), fs = require("fs");
	const [sock, dir] = process.argv.slice(1);
	http.createServer((req, res) => {
		let body = "";
		req.on("data", (d) => { body += d; });
		req.on("end", () => {
			if (req.url === "/health") { res.end("{\"status\":\"ok\"}"); return; }
			fs.writeFileSync(dir + "/req.json", body);
			const a = JSON.parse(fs.readFileSync(dir + "/answer.json", "utf8"));
			res.writeHead(a.status, { "Content-Type": "application/json" });
			res.end(JSON.stringify(a.status === 200 ?
				{ object: "text_completion", choices: [{ index: 0, text: a.text, finish_reason: "stop" }] } :
				{ error: { message: a.message, type: "invalid_request_error" } }));
		});
	}).listen(sock);
' "$T/fake.sock" "$T" >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
wait_health "unix:$T/fake.sock" 20 || { bad "the fake llamuxd did not start"; finish; }
export LLAMUX_SOCKET="$T/fake.sock"
answer() { printf '%s' "$1" >"$T/answer.json"; }
lsh_req() { (cd "$T/work" && "$LSH" "$@" >"$T/out.txt" 2>"$T/err.txt"); }

answer '{"status":200,"text":"  ls -l  \nrm -rf ~\n"}'
lsh_req --dry-run -c "$REQ"
expect_eq "only the first line of the answer, trimmed, is proposed" "ls -l|# safe" \
	"$(sed -n 1p "$T/out.txt")|$(sed -n 2p "$T/out.txt")"
expect_eq "... in three lines" 3 "$(wc -l <"$T/out.txt")"
expect_eq "the request is greedy" 0 "$(json "$T/req.json" 'j.temperature')"
expect_eq "... at most 64 tokens" 64 "$(json "$T/req.json" 'j.max_tokens')"
expect_eq "... stops at a newline" '["\n"]' "$(json "$T/req.json" 'j.stop')"
expect_eq "... is not streamed" false "$(json "$T/req.json" 'j.stream')"
check "... and carries the few-shot prompt and the request" \
	grep -q "Request: $REQ\\\\nCommand:\"" "$T/req.json"

answer '{"status":200,"text":" ls caf\u00e9\n"}'
lsh_req --dry-run -c "$REQ"
expect_eq "an answer with non-ASCII bytes is refused" 2 "$?"
check "... saying why" grep -q "^lsh: the model's answer has a byte that is not printable ASCII (0xc3), so it is not run: ls caf\\\\xc3\\\\xa9$" "$T/err.txt"
check "... and proposing nothing" not test -s "$T/out.txt"

answer '{"status":200,"text":"ls\u0007 -l"}'
lsh_req --dry-run -c "$REQ"
expect_eq "an answer with a control byte is refused" 2 "$?"
check "... saying why" grep -q "not printable ASCII (0x07)" "$T/err.txt"

answer "{\"status\":200,\"text\":\" rm -f $T/work/canary.txt\"}"
printf 'y\n' | lsh_req -c "$REQ"
expect_eq "a risky answer is not run on 'y'" 1 "$?"
check "... it is shown as risky" grep -q '^# risky: ' "$T/out.txt"
check "... and the file is still there" test -e "$T/work/canary.txt"

answer '{"status":200,"text":"frobnicate-zz --all"}'
lsh_req --dry-run -c "$REQ"
expect_eq "an unknown command is refused" 2 "$?"
check "... by the same check as before" grep -q "^lsh: the model's answer is not a command this system has, so it is not run: frobnicate-zz --all$" "$T/err.txt"

answer '{"status":400,"message":"the prompt is too long"}'
lsh_req --dry-run -c "$REQ"
expect_eq "a refused request fails" 2 "$?"
check "... with llamuxd's message" grep -q "^lsh: llamuxd refused the request (HTTP 400): the prompt is too long$" "$T/err.txt"

# ---- no daemon
export LLAMUX_SOCKET="$T/none.sock"
lsh_req --backend daemon --dry-run -c "$REQ"
expect_eq "--backend daemon without a daemon fails" 2 "$?"
check "... saying there is none and what to do" \
	grep -q "^lsh: no llamuxd answers on $T/none.sock (.*): start it (systemctl start llamuxd" "$T/err.txt"
out=$("$LSH" --backend daemon --version)
check "... and --version says the fallback is unusable" grep -q "no model (.*unusable: no llamuxd answers on $T/none.sock" <<<"$out"
"$LSH" --backend bogus --version >/dev/null 2>"$T/err.txt"
expect_eq "an unknown backend is a usage error" 2 "$?"
check "... naming the choices" grep -q "use inprocess, kernel, daemon, auto or none" "$T/err.txt"
out=$("$LSH" -m "$MODEL_ABS" --version)
if [ ! -e /dev/llamux ]; then
	check "auto without daemon or kernel: the in-process model ($out)" \
		grep -q "model fallback: $MODEL_ABS (in-process)\$" <<<"$out"
	out=$("$LSH" --version)
	check "auto with nothing: no model" grep -q "; no model (works without one; set LLAMUX_MODEL or use -m" <<<"$out"
	lsh_req --backend kernel --dry-run -c "$REQ"
	expect_eq "--backend kernel without /dev/llamux fails" 2 "$?"
	check "... saying to load the module" grep -q "^lsh: /dev/llamux does not exist: load the kernel module first (modprobe llamux)" "$T/err.txt"
fi
finish
