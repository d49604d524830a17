#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# org.llamux.Llamux1 on D-Bus, on buses this test starts itself: a private
# session bus for `llamuxd --user`, and (as root, with polkitd) a private
# system bus configured like Debian's, with the shipped bus policy and
# polkit action, where polkitd runs. Ask with busctl and gdbus, the Token
# and Finished signals of Generate (dbus_generate, dbus-monitor), Cancel,
# properties, the introspection XML in dist/, errors, and LoadModel: denied
# without polkit, denied for an unprivileged caller, allowed for root.
. "$(dirname "$0")/lib.sh"

need_pkgs dbus-daemon dbus-bin libglib2.0-bin curl libxml2-utils || exit 1
command -v node >/dev/null || need_pkgs nodejs || exit 1
[ -n "$DBUS_GENERATE" ] || { echo "needs DBUS_GENERATE"; exit 1; }
ROOT=$(pwd)
ACTION=/usr/share/polkit-1/actions/org.llamux.Llamux1.policy
installed_action=""
cleanup_dbus() {
	[ -n "$installed_action" ] && rm -f "$ACTION"
	cleanup
}
trap cleanup_dbus EXIT

bus_config() {	# TYPE SOCKET [EXTRA XML]
	cat <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>$1</type>
  <listen>unix:path=$2</listen>
  <auth>EXTERNAL</auth>
  ${3:-}
</busconfig>
XML
}

# A session bus that any user may join (the unprivileged caller below).
bus_config session "$T/session.sock" '<policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/> </policy>' >"$T/session.conf"
dbus-daemon --config-file="$T/session.conf" --nofork --nopidfile >"$T/session-bus.log" 2>&1 &
PIDS="$PIDS $!"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/session.sock"
for i in $(seq 1 100); do [ -S "$T/session.sock" ] && break; sleep 0.05; done
chmod 666 "$T/session.sock"
export XDG_RUNTIME_DIR="$T/run"
mkdir -p "$XDG_RUNTIME_DIR"

call() { busctl --user call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 "$@"; }
prop() { busctl --user get-property org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 "$1"; }

# ---- llamuxd --user, no polkit reachable
P=$(free_port)
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-system-bus" "$LLAMUXD" --user -m "$MODEL" \
	--config "$T/empty.conf" --port "$P" >"$T/user.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "http://127.0.0.1:$P" 20 || { cat "$T/user.log"; exit 1; }
for i in $(seq 1 100); do busctl --user status org.llamux.Llamux1 >/dev/null 2>&1 && break; sleep 0.05; done
check "--user puts the socket in \$XDG_RUNTIME_DIR/llamux" test -S "$T/run/llamux/llamuxd.sock"
check "the name is on the session bus" grep -q 'D-Bus: org.llamux.Llamux1 on the session bus' "$T/user.log"

expect_eq "property Model" 's "stories260K"' "$(prop Model)"
expect_eq "property Backend" 's "cpu"' "$(prop Backend)"
expect_eq "property Status" 's "ready"' "$(prop Status)"
check "gdbus reads all properties" sh -c "gdbus call --session -d org.llamux.Llamux1 -o /org/llamux/Llamux1 -m org.freedesktop.DBus.Properties.GetAll org.llamux.Llamux1 | grep -q \"'Model': <'stories260K'>\""

# Ask: greedy, equal to the HTTP chat completion of the same message
Q="Tell me about a cat."
ask=$(call Ask 'sa{sv}' "$Q" 2 max_tokens u 30 temperature d 0)
curl -s "http://127.0.0.1:$P/v1/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"$Q\"}],\"max_tokens\":30,\"temperature\":0}" >"$T/chat.json"
want=$(json "$T/chat.json" 'j.choices[0].message.content')
got=$(busctl --user --json=short call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 Ask 'sa{sv}' "$Q" 2 max_tokens u 30 temperature d 0 | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0]')
check "busctl Ask answers ($ask)" test -n "$got"
expect_eq "Ask equals the HTTP chat completion" "$want" "$got"
gd=$(gdbus call --session -d org.llamux.Llamux1 -o /org/llamux/Llamux1 -m org.llamux.Llamux1.Ask "$Q" "{'max_tokens': <uint32 30>, 'temperature': <0.0>}")
check "gdbus Ask answers the same ($gd)" test -n "$gd" -a "$(grep -c "$(printf '%s' "$want" | head -c 12)" <<<"$gd")" -ge 1
raw=$(call Ask 'sa{sv}' "Once upon a time" 3 max_tokens u 20 temperature d 0 raw b true)
comp=$(curl -s "http://127.0.0.1:$P/v1/completions" -d '{"prompt":"Once upon a time","max_tokens":20,"temperature":0}' | node -pe 'JSON.stringify(JSON.parse(require("fs").readFileSync(0)).choices[0].text)')
expect_eq "Ask with raw: true continues plain text like /v1/completions" "s $comp" "$raw"
expect_eq "Ask options: stop" "$(call Ask 'sa{sv}' "Once upon a time" 4 max_tokens u 20 temperature d 0 raw b true stop s "girl" | cut -c1-40)" "$(call Ask 'sa{sv}' "Once upon a time" 4 max_tokens u 20 temperature d 0 raw b true stop as 1 "girl" | cut -c1-40)"

# Generate: Token signals of the request, then Finished; monitored too
dbus-monitor --session "type='signal',interface='org.llamux.Llamux1'" >"$T/monitor.txt" 2>&1 &
MON=$!
PIDS="$PIDS $MON"
sleep 0.5
"$DBUS_GENERATE" "$Q" 30 >"$T/gen.txt"
expect_eq "dbus_generate exits 0" 0 "$?"
ntok=$(grep -c '^TOKEN ' "$T/gen.txt")
check "Generate streams Token signals ($ntok)" test "$ntok" -ge 5
expect_eq "the Token texts make the Ask answer" "$want" "$(node -e '
	const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
	process.stdout.write(lines.filter(l => l.startsWith("TOKEN ")).map(l => l.slice(6)).join(""));' "$T/gen.txt")"
check "Finished reports reason and tokens" grep -Eq '^FINISHED (length|stop) [0-9]+ [0-9]+$' "$T/gen.txt"
"$DBUS_GENERATE" "Once upon a time" 1000 --cancel-after 3 >"$T/cancel.txt"
check "Cancel ends a request with Finished cancelled" grep -q '^FINISHED cancelled ' "$T/cancel.txt"
# how many tokens slip in between depends on the machine's load (stories260K
# makes thousands a second); the request asked for 1000
ncancel=$(awk '/^FINISHED/ { print $4 }' "$T/cancel.txt")
check "... well before its 1000 tokens ($ncancel)" test "${ncancel:-1000}" -lt 500
id=$(call Generate 'sa{sv}' "Once upon a time" 1 max_tokens u 100000 | awk '{ print $2 }')
sleep 1
check "a caller that leaves the bus cancels its Generate" grep -A1 "member=Finished" "$T/monitor.txt" | grep -q "uint64 $id" 
check "... as cancelled" sh -c "grep -A2 'member=Finished' '$T/monitor.txt' | grep -q 'string \"cancelled\"'"
check "dbus-monitor saw Token signals (t id, s text)" sh -c "grep -A2 'member=Token' '$T/monitor.txt' | grep -q 'string '"

# errors
call Ask 'sa{sv}' "x" 1 temperature s hot >/dev/null 2>"$T/err.txt"
check "a wrong option type is refused" grep -qi "temperature" "$T/err.txt"
call Ask 'sa{sv}' "x" 1 colour s red >/dev/null 2>"$T/err.txt"
check "an unknown option is refused" grep -q "unknown option 'colour'" "$T/err.txt"
call Cancel t 987654 >/dev/null 2>"$T/err.txt"
check "Cancel of an unknown id is refused" grep -q "no running request 987654" "$T/err.txt"
call LoadModel s /nonexistent.gguf >/dev/null 2>"$T/err.txt"
check "LoadModel of a missing file is refused" grep -q "no readable model" "$T/err.txt"
call LoadModel s "$ROOT/../shared/models/tiny-q4_0.gguf" >/dev/null 2>"$T/err.txt"
check "LoadModel is denied when polkit cannot be asked" grep -qi "access denied\|authorization unavailable" "$T/err.txt"
expect_eq "... and the model stays" 's "stories260K"' "$(prop Model)"

# the introspection data equals dist/dbus/org.llamux.Llamux1.xml
busctl --user introspect --xml-interface org.llamux.Llamux1 /org/llamux/Llamux1 >"$T/live.xml"
shape() {
	node -e '
		const x = require("fs").readFileSync(process.argv[1], "utf8");
		const i = x.indexOf("<interface name=\"org.llamux.Llamux1\">");
		const body = x.slice(i, x.indexOf("</interface>", i)).replace(/<!--[\s\S]*?-->/g, "");
		const out = [];
		for (const m of body.matchAll(/<(method|signal|property) name="(\w+)"([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g)) {
			const args = [...(m[5] || "").matchAll(/<arg ([^>]*)\/>/g)].map(a => {
				const t = /type="([^"]+)"/.exec(a[1])[1], d = /direction="(\w+)"/.exec(a[1]);
				return (d ? d[1] : (m[1] === "method" ? "in" : "out")) + ":" + t;
			});
			const t = /type="([^"]+)"/.exec(m[3]);
			out.push(m[1] + " " + m[2] + " " + (t ? t[1] : "") + " " + args.join(","));
		}
		console.log(out.sort().join("\n"));' "$1"
}
shape "$T/live.xml" >"$T/live.shape"
sed '1d' "$ROOT/dist/dbus/org.llamux.Llamux1.xml" >"$T/dist.xml"
shape "$ROOT/dist/dbus/org.llamux.Llamux1.xml" >"$T/dist.shape"
check "dist/dbus/org.llamux.Llamux1.xml matches the live interface" cmp -s "$T/live.shape" "$T/dist.shape"
check "dist's XML files are well-formed" xmllint --noout "$ROOT/dist/dbus/org.llamux.Llamux1.xml" \
	"$ROOT/dist/dbus/org.llamux.Llamux1.conf" "$ROOT/dist/polkit/org.llamux.Llamux1.policy"
kill -TERM "$DPID"; wait "$DPID"
expect_eq "llamuxd --user exits 0" 0 "$?"
check "the name is released" sh -c '! busctl --user status org.llamux.Llamux1 >/dev/null 2>&1'

# ---- a system bus like Debian's with polkitd: the shipped policy, polkit
POLKITD=/usr/lib/polkit-1/polkitd
if [ "$(id -u)" -ne 0 ] || ! need_pkgs polkitd || [ ! -x "$POLKITD" ]; then
	echo "polkit part skipped: needs root and polkitd"
	finish
fi
if [ ! -e "$ACTION" ]; then
	cp "$ROOT/dist/polkit/org.llamux.Llamux1.policy" "$ACTION"
	installed_action=1
fi
bus_config system "$T/system.sock" "<policy context=\"default\">
    <allow user=\"*\"/> <deny own=\"*\"/> <deny send_type=\"method_call\"/>
    <allow send_type=\"signal\"/>
    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>
    <allow send_requested_reply=\"true\" send_type=\"error\"/>
    <allow receive_type=\"method_call\"/> <allow receive_type=\"method_return\"/>
    <allow receive_type=\"error\"/> <allow receive_type=\"signal\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>
  </policy>
  <include ignore_missing=\"yes\">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>$ROOT/dist/dbus/org.llamux.Llamux1.conf</include>" >"$T/system.conf"
dbus-daemon --config-file="$T/system.conf" --nofork --nopidfile >"$T/system-bus.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 100); do [ -S "$T/system.sock" ] && break; sleep 0.05; done
chmod 666 "$T/system.sock"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/system.sock"
"$POLKITD" --no-debug >"$T/polkitd.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 100); do busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break; sleep 0.05; done
check "polkitd runs on the private system bus" busctl --system status org.freedesktop.PolicyKit1
for i in $(seq 1 40); do pkaction --action-id org.llamux.Llamux1.load-model >/dev/null 2>&1 && break; sleep 0.1; done
check "polkit knows the shipped action org.llamux.Llamux1.load-model" sh -c "pkaction --action-id org.llamux.Llamux1.load-model --verbose | grep -q 'implicit active: *auth_admin_keep'"

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# the system service (root here) on the system bus: subject system-bus-name
P=$(free_port)
"$LLAMUXD" -m "$MODEL" --config "$T/empty.conf" --port "$P" --socket "$T/sys.sock" >"$T/system.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "http://127.0.0.1:$P" 20
for i in $(seq 1 100); do busctl --system status org.llamux.Llamux1 >/dev/null 2>&1 && break; sleep 0.05; done
check "the shipped bus policy lets the service own org.llamux.Llamux1" grep -q 'D-Bus: org.llamux.Llamux1 on the system bus' "$T/system.log"
sysc() { busctl --system call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 "$@"; }
out=$("${NOBODY[@]}" busctl --system call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 Ask 'sa{sv}' Hi 1 max_tokens u 5 2>&1)
check "an unprivileged user may Ask on the system bus ($out)" grep -q '^s ' <<<"$out"
"${NOBODY[@]}" busctl --system call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 LoadModel s "$ROOT/../shared/models/tiny-q4_0.gguf" >/dev/null 2>"$T/err.txt"
check "LoadModel by an unprivileged user is denied by polkit" grep -qi "denied\|authorization" "$T/err.txt"
check "... which the log records" grep -q "denied by polkit" "$T/system.log"
expect_eq "... and the model stays" 's "stories260K"' "$(busctl --system get-property org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 Model)"
"${NOBODY[@]}" busctl --system call org.llamux.Llamux1 /org/llamux/Llamux1 org.freedesktop.DBus.Properties Set ssv org.llamux.Llamux1 Model s x >/dev/null 2>&1
check "the bus policy does not let others call Properties.Set" test $? -ne 0
dbus-monitor --system "type='signal',interface='org.freedesktop.DBus.Properties'" >"$T/props.txt" 2>&1 &
PIDS="$PIDS $!"
sleep 0.3
sysc LoadModel s "$ROOT/../shared/models/tiny-q4_0.gguf"
expect_eq "LoadModel by root is authorized and done" 0 "$?"
expect_eq "the Model property follows" 's "tiny-q4_0"' "$(busctl --system get-property org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 Model)"
expect_eq "the HTTP API serves the new model" tiny-q4_0 "$(curl -s "http://127.0.0.1:$P/v1/models" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')"
sleep 0.3
check "PropertiesChanged was signalled for Status/Model" grep -q 'string "Status"' "$T/props.txt"
kill -TERM "$DPID"; wait "$DPID"
expect_eq "the system-bus service exits 0" 0 "$?"

# llamuxd --user asks polkit on the system bus about a session-bus caller
P=$(free_port)
"$LLAMUXD" --user -m "$MODEL" --config "$T/empty.conf" --port "$P" >"$T/user2.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_health "http://127.0.0.1:$P" 20
for i in $(seq 1 100); do busctl --user status org.llamux.Llamux1 >/dev/null 2>&1 && break; sleep 0.05; done
"${NOBODY[@]}" busctl --user call org.llamux.Llamux1 /org/llamux/Llamux1 org.llamux.Llamux1 LoadModel s "$ROOT/../shared/models/tiny-q4_0.gguf" >/dev/null 2>"$T/err.txt"
check "--user: LoadModel by an unprivileged process is denied" grep -qi "denied\|authorization" "$T/err.txt"
call LoadModel s "$ROOT/../shared/models/tiny-q4_0.gguf"
expect_eq "--user: LoadModel by root is allowed" 0 "$?"
expect_eq "--user: the model changed" 's "tiny-q4_0"' "$(prop Model)"
kill -TERM "$DPID"; wait "$DPID"
finish
