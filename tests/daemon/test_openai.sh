#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# A client nobody here wrote: OpenAI's official `openai` npm package,
# installed with npm into a scratch directory, against llamuxd with an API
# key: models.list(), a chat completion, a streamed chat completion (same
# greedy text), a legacy completion, and the SDK's own 401 and 400 errors.
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || need_pkgs nodejs || exit 1
command -v npm >/dev/null || need_pkgs npm || exit 1

mkdir -p "$T/npm"
if ! (cd "$T/npm" && npm init -y >/dev/null &&
	npm install --no-audit --no-fund --loglevel=error openai >"$T/npm.log" 2>&1); then
	cat "$T/npm.log"
	bad "npm install openai"
	finish
fi
ok "npm install openai ($(node -p "require('$T/npm/node_modules/openai/package.json').version"))"

P=$(free_port)
start_daemon d "$P" --api-key test-key-123 || exit 1

cat >"$T/npm/client.mjs" <<'JS'
import OpenAI from "openai";

const [port] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "test-key-123" });
let failed = 0;
const check = (what, cond, detail = "") => {
	console.log(`${cond ? "ok" : "FAIL"}: ${what}${detail ? " (" + detail + ")" : ""}`);
	if (!cond) failed++;
};

const models = await client.models.list();
const ids = [];
for await (const m of models) ids.push(m.id);
check("models.list() names the model", ids.length === 1 && ids[0] === "stories260K", ids.join(","));

const messages = [{ role: "user", content: "Tell me a story about a cat." }];
const whole = await client.chat.completions.create({
	model: "stories260K", messages, max_tokens: 40, temperature: 0,
});
const text = whole.choices[0].message.content;
check("chat.completions.create answers", typeof text === "string" && text.length > 0, JSON.stringify(text.slice(0, 40)));
check("... as the assistant", whole.choices[0].message.role === "assistant");
check("... with a finish reason", ["stop", "length"].includes(whole.choices[0].finish_reason));
check("... and usage", whole.usage.completion_tokens > 0 &&
	whole.usage.total_tokens === whole.usage.prompt_tokens + whole.usage.completion_tokens,
	JSON.stringify(whole.usage));

const stream = await client.chat.completions.create({
	model: "stories260K", messages, max_tokens: 40, temperature: 0, stream: true,
	stream_options: { include_usage: true },
});
let streamed = "", chunks = 0, finish = null, usage = null;
for await (const chunk of stream) {
	chunks++;
	if (chunk.choices.length) {
		streamed += chunk.choices[0].delta?.content ?? "";
		finish = chunk.choices[0].finish_reason ?? finish;
	}
	if (chunk.usage) usage = chunk.usage;
}
check("a streamed chat completion arrives in chunks", chunks > 5, `${chunks} chunks`);
check("... with the same greedy text", streamed === text);
check("... a finish reason and usage", finish !== null && usage && usage.completion_tokens === whole.usage.completion_tokens);

const legacy = await client.completions.create({
	model: "stories260K", prompt: "Once upon a time", max_tokens: 20, temperature: 0,
});
check("completions.create (legacy) answers", legacy.choices[0].text.length > 0 && legacy.usage.completion_tokens === 20);

try {
	const bad = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "wrong", maxRetries: 0 });
	await bad.models.list();
	check("a wrong key is refused", false);
} catch (e) {
	check("a wrong key is refused: the SDK raises AuthenticationError", e instanceof OpenAI.AuthenticationError && e.status === 401, e.message);
}
try {
	await client.chat.completions.create({ model: "stories260K", messages, n: 3 });
	check("n = 3 is refused", false);
} catch (e) {
	check("n = 3: the SDK raises BadRequestError with our message", e instanceof OpenAI.BadRequestError && /n = 1/.test(e.message), e.message);
}
process.exit(failed ? 1 : 0);
JS
(cd "$T/npm" && node client.mjs "$P") >"$T/client.out" 2>&1
rc=$?
cat "$T/client.out"
n_pass=$((n_pass + $(grep -c '^ok: ' "$T/client.out")))
n_fail=$((n_fail + $(grep -c '^FAIL: ' "$T/client.out")))
[ "$rc" -ne 0 ] && [ "$(grep -c '^FAIL: ' "$T/client.out")" -eq 0 ] && bad "the node client failed (exit $rc)"
finish
