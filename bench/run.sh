#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# bench/run.sh: llamux against llama.cpp on TinyLlama-1.1B-shaped models.
# Builds llamux (Release, in build-bench/) and bench/bandwidth.c, makes the
# random-weight models in bench/models/ (F16 with `llamux mkmodel`, the others
# with `llamux quantize`; existing files are kept), runs `llamux bench` on
# each with 1 and 2 threads, measures the read bandwidth, and writes
# bench/RESULTS.md: one table with our pp/tg, llama.cpp's figures, the ratio,
# and how close generation comes to the memory-bandwidth bound.
#
# usage: bench/run.sh [-p 512] [-n 128] [-r 5] [--bw-mib 2048]
#                     [--types "F16 Q8_0 Q4_0 Q4_K_M"] [--shape tinyllama-1.1b]
#                     [-o bench/RESULTS.md]
# LLAMUX=/path/to/llamux uses that program instead of building one.
# Raw outputs (CSV, stderr, bandwidth) go to bench/out/.
set -euo pipefail

cd "$(dirname "$0")/.."

n_prompt=512
n_gen=128
reps=5
bw_mib=2048
types="F16 Q8_0 Q4_0 Q4_K_M"
shape=tinyllama-1.1b
results=bench/RESULTS.md
vocab=../shared/vocab/ggml-vocab-llama-spm.gguf
threads="1,2"

die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

usage() {
	sed -n 's/^# usage: /usage: /p; s/^#                     /                    /p' "$0" >&2
	exit 2
}

need_value() {
	[ $# -ge 2 ] || { echo "bench/run.sh: $1 needs a value" >&2; usage; }
}

args="$*"
while [ $# -gt 0 ]; do
	case "$1" in
	-p) need_value "$@"; n_prompt=$2; shift 2 ;;
	-n) need_value "$@"; n_gen=$2; shift 2 ;;
	-r) need_value "$@"; reps=$2; shift 2 ;;
	--bw-mib) need_value "$@"; bw_mib=$2; shift 2 ;;
	--types) need_value "$@"; types=$2; shift 2 ;;
	--shape) need_value "$@"; shape=$2; shift 2 ;;
	-o) need_value "$@"; results=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "bench/run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
for v in "$n_prompt" "$n_gen" "$reps" "$bw_mib"; do
	case "$v" in
	''|*[!0-9]*) die "-p, -n, -r and --bw-mib take whole numbers, got '$v'" ;;
	esac
done
for t in $types; do
	case "$t" in
	F16|Q8_0|Q4_0|Q4_K_M) ;;
	*) die "--types: '$t' is not one of F16 Q8_0 Q4_0 Q4_K_M" ;;
	esac
done
[ -f "$vocab" ] || die "no vocabulary at $vocab"

# llama.cpp, Feb 2025 build, llama-bench CPU-only on this machine type
# (2 cores, AVX-512 F/BW/VL/DQ, no VNNI): pp512 t=1, pp512 t=2, tg128 t=1,
# tg128 t=2, each as "mean sd" (its sizes: F16 2.05 GiB, Q8_0 1.09 GiB,
# Q4_0 607 MiB, Q4_K_M 636 MiB).
llamacpp() {
	case "$1" in
	F16) echo "25.6 5.2 51.5 3.2 3.8 0.3 7.0 1.2" ;;
	Q8_0) echo "20.8 1.0 30.8 4.1 4.6 0.4 10.8 0.4" ;;
	Q4_0) echo "26.5 1.0 50.5 4.2 8.5 0.7 16.4 0.2" ;;
	Q4_K_M) echo "14.04 1.61 28.1 0.4 6.92 1.04 15.8 1.0" ;;
	esac
}

# Its machine's 2-thread read bandwidth, GB/s.
llamacpp_bw2=18.5

step() {
	echo "== $*" >&2
}

# Other work on the machine skews every figure (2 threads especially).
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
	echo "bench/run.sh: warning: load average $load at the start; the figures are only meaningful on an idle machine" >&2
fi

# ---- build ----
mkdir -p bench/models bench/out
if [ -n "${LLAMUX:-}" ]; then
	llamux=$LLAMUX
	[ -x "$llamux" ] || die "LLAMUX=$llamux is not an executable"
else
	step "building llamux (Release) in build-bench/"
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	cmake --build build-bench -j"$(nproc)" --target llamux_cli >/dev/null
	llamux=build-bench/llamux
fi
bw=build-bench/bandwidth
if [ ! -x "$bw" ] || [ bench/bandwidth.c -nt "$bw" ]; then
	step "building bench/bandwidth.c"
	mkdir -p build-bench
	gcc -std=c11 -O3 -march=native -Wall -Wextra -Werror -pthread \
		bench/bandwidth.c -o "$bw"
fi

# ---- models ----
case "$shape" in
tinyllama-1.1b) prefix=tinyllama ;;
*) prefix=$shape ;;
esac
model_path() {
	echo "bench/models/$prefix-$(echo "$1" | tr '[:upper:]' '[:lower:]').gguf"
}
f16=$(model_path F16)
need_f16=false
for t in $types; do
	[ -f "$(model_path "$t")" ] || need_f16=true
done
if $need_f16 && [ ! -f "$f16" ]; then
	step "making $f16"
	"$llamux" mkmodel --shape "$shape" --type f16 --vocab-from "$vocab" \
		--seed 1 -o "$f16.tmp" >&2 || die "llamux mkmodel failed"
	mv "$f16.tmp" "$f16"
fi
for t in $types; do
	m=$(model_path "$t")
	if [ "$t" = F16 ] || [ -f "$m" ]; then
		continue
	fi
	step "making $m"
	"$llamux" quantize "$f16" "$m.tmp" "$t" >&2 || die "llamux quantize failed"
	mv "$m.tmp" "$m"
done

# ---- measurements ----
bw_reading() {
	"$bw" -s "$bw_mib" -t "$1" | tee "$2" >&2
}
# This VM's bandwidth moves within a minute (its neighbours): readings of
# 28 to 55 GB/s came minutes apart. So the fraction of the bound comes from
# short 2-thread tg runs each between two bandwidth readings, three such
# pairs per type (the median is reported), not from one reading for all.
# A fresh array's rate also depends on where its pages land (25 to 52 GB/s
# from one allocation to the next, each steady for its whole run), so each
# reading is taken twice: on the array, and on the model file's own pages
# (bandwidth -f), the memory generation reads when the model is mapped.
# Each tg run measures the model mapped (the default) and read into memory
# (--mmap 0, llama.cpp's --no-mmap), between the same readings.
# $1 model, $2 file prefix; LLAMUX_CPU passes through.
paired_tg() {
	local k
	for k in 1 2 3; do
		bw_reading 2 "bench/out/$2-bw$k-before.txt"
		"$bw" -f "$1" -t 2 >"bench/out/$2-fbw$k-before.txt" ||
			die "bandwidth -f $1 failed"
		"$llamux" bench -m "$1" -p 0 -n "$n_gen" -t 2 -r 2 --mmap 1,0 \
			--first-token=0 -o csv >"bench/out/$2-tg$k.csv" ||
			die "llamux bench failed on $1"
		"$bw" -f "$1" -t 2 >"bench/out/$2-fbw$k-after.txt" ||
			die "bandwidth -f $1 failed"
		bw_reading 2 "bench/out/$2-bw$k-after.txt"
	done
}
for t in $types; do
	m=$(model_path "$t")
	step "llamux bench on $m"
	# The CSV to a file; stderr (progress, first token, peak RSS) to both.
	"$llamux" bench -m "$m" -p "$n_prompt" -n "$n_gen" -t "$threads" \
		-r "$reps" -o csv --progress 2>&1 >"bench/out/$t.csv" |
		tee "bench/out/$t.err" >&2
	step "tg against the bandwidth around it, $t, 2 threads (3 pairs)"
	paired_tg "$m" "$t-paired"
	# llama.cpp's machine has no AVX-512 VNNI: when this one has, the
	# 2-thread runs again without it, for a like-for-like comparison.
	if grep -q "avx512vnni" "bench/out/$t.csv"; then
		step "llamux bench on $m with LLAMUX_CPU=avx512 (no VNNI)"
		LLAMUX_CPU=avx512 "$llamux" bench -m "$m" -p "$n_prompt" \
			-n "$n_gen" -t 2 -r "$reps" -o csv --progress 2>&1 \
			>"bench/out/$t-novnni.csv" | tee "bench/out/$t-novnni.err" >&2
		step "tg against the bandwidth around it, $t, no VNNI (3 pairs)"
		LLAMUX_CPU=avx512 paired_tg "$m" "$t-novnni-paired"
	else
		rm -f "bench/out/$t-novnni.csv" "bench/out/$t-novnni.err"
	fi
done
step "read bandwidth ($bw_mib MiB)"
bw_reading 1,2 bench/out/bandwidth.txt
bw1=$(awk '/^1 thread:/ { print $3 }' bench/out/bandwidth.txt)
bw2=$(awk '/^2 threads:/ { print $3 }' bench/out/bandwidth.txt)
if [ -z "$bw1" ] || [ -z "$bw2" ]; then
	die "no bandwidth figures in bench/out/bandwidth.txt"
fi
# ---- results ----

# Prints the named fields of the first row of a llamux bench CSV file
# (quoted values, as llama-bench writes them) whose n_prompt, n_gen,
# n_threads and (optional $6) use_mmap match; "" matches any.
csv_get() {
	awk -v np="$2" -v ng="$3" -v nt="$4" -v want="$5" -v mm="${6:-}" '
	function split_csv(line, out,    n, i, c, f, q) {
		n = 0; f = ""; q = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (q) {
				if (c == "\"" && substr(line, i + 1, 1) == "\"") { f = f c; i++ }
				else if (c == "\"") q = 0
				else f = f c
			} else if (c == "\"") q = 1
			else if (c == ",") { out[++n] = f; f = "" }
			else f = f c
		}
		out[++n] = f
		return n
	}
	NR == 1 { n = split_csv($0, h); for (i = 1; i <= n; i++) col[h[i]] = i; next }
	{
		split_csv($0, v)
		if ((np == "" || v[col["n_prompt"]] == np) &&
		    (ng == "" || v[col["n_gen"]] == ng) &&
		    (nt == "" || v[col["n_threads"]] == nt) &&
		    (mm == "" || v[col["use_mmap"]] == mm)) {
			k = split(want, w, " ")
			for (i = 1; i <= k; i++)
				printf "%s%s", v[col[w[i]]], i < k ? " " : "\n"
			exit
		}
	}' "$1"
}

# "a ± b" with two decimals, or n/a.
pm() {
	if [ -n "${1:-}" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f ± %.2f", a, b }'
	else
		echo "n/a"
	fi
}

size_of() {
	awk -v b="$(stat -c %s "$1")" 'BEGIN {
		if (b >= 1073741824) printf "%.2f GiB", b / 1073741824
		else printf "%.1f MiB", b / 1048576 }'
}

# First-token time with N threads and the peak RSS, from a run's stderr.
first_token() {
	sed -n "s/^llamux bench: first token: .*, $2 threads\{0,1\}: \([0-9.]* ± [0-9.]*\) ms$/\1 ms/p" "$1" | tail -n 1
}
peak_rss() {
	sed -n 's/^llamux bench: peak RSS: \(.*\)$/\1/p' "$1" | tail -n 1
}

# The 2-thread reading in file $1, or x.
bw2_of() {
	local v
	v=$(awk '/^2 threads:/ { print $3 }' "$1" 2>/dev/null)
	echo "${v:-x}"
}

# The paired runs of prefix $1 (bytes per token $2), the model mapped ($3 =
# 1) or read in (0): "pct bound tg fpct all" of the median pair by fraction
# of the array bound, fpct the same run's fraction of the model file's read
# rate, "all" listing the three.
paired() {
	local k tgk
	for k in 1 2 3; do
		tgk=$(csv_get "bench/out/$1-tg$k.csv" 0 "$n_gen" 2 avg_ts "$3")
		echo "${tgk:-x} $(bw2_of "bench/out/$1-bw$k-before.txt")" \
		     "$(bw2_of "bench/out/$1-bw$k-after.txt")" \
		     "$(bw2_of "bench/out/$1-fbw$k-before.txt")" \
		     "$(bw2_of "bench/out/$1-fbw$k-after.txt")"
	done | awk -v bpt="$2" '
	/x/ { bad = 1 }
	{
		bw[NR] = ($2 + $3) / 2; tg[NR] = $1; fbw[NR] = ($4 + $5) / 2
		pct[NR] = bw[NR] > 0 ? 100 * $1 * bpt / (bw[NR] * 1e9) : 0
		fpct[NR] = fbw[NR] > 0 ? 100 * $1 * bpt / (fbw[NR] * 1e9) : 0
		all = all (NR > 1 ? ", " : "") sprintf("%.2f t/s (array %.1f → %.1f GB/s, file %.1f → %.1f GB/s)", $1, $2, $3, $4, $5)
	}
	END {
		if (bad || NR != 3 || bpt == "") { print "n/a n/a n/a n/a n/a"; exit }
		m = 1
		for (i = 1; i <= 3; i++) {
			below = 0
			for (j = 1; j <= 3; j++) below += pct[j] < pct[i]
			if (below == 1) m = i
		}
		printf "%.0f%% %.2f %.2f %.0f%% %s\n", pct[m], bw[m] * 1e9 / bpt, tg[m], fpct[m], all
	}'
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] &&
   [ -n "$(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes)"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
first_type=${types%% *}
level=$(csv_get "bench/out/$first_type.csv" "" "" "" cpu_level)
pp=pp$n_prompt
tg=tg$n_gen

{
	echo "<!-- SPDX-License-Identifier: GPL-2.0 OR MIT -->"
	echo "# llamux vs llama.cpp on $shape-shaped random-weight models (CPU)"
	echo
	echo "Written by \`bench/run.sh\`; run it again rather than editing this file."
	echo
	echo "| type | file size | $pp t=1 | $pp t=2 | $tg t=1 | $tg t=2 | llama.cpp pp512 t=1 | llama.cpp pp512 t=2 | llama.cpp tg128 t=1 | llama.cpp tg128 t=2 | $pp ours/llama.cpp t=2 | $tg ours/llama.cpp t=2 | bytes read per token | tg bound t=2 | $tg t=2 % of bound | $tg t=2 % of the model file's read rate | llama.cpp tg128 t=2 % of its bound | first token t=2 | peak RSS |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for t in $types; do
		m=$(model_path "$t")
		csv=bench/out/$t.csv
		err=bench/out/$t.err
		read -r pp1 pp1sd <<<"$(csv_get "$csv" "$n_prompt" 0 1 "avg_ts stddev_ts")"
		read -r pp2 pp2sd <<<"$(csv_get "$csv" "$n_prompt" 0 2 "avg_ts stddev_ts")"
		read -r tg1 tg1sd <<<"$(csv_get "$csv" 0 "$n_gen" 1 "avg_ts stddev_ts")"
		read -r tg2 tg2sd <<<"$(csv_get "$csv" 0 "$n_gen" 2 "avg_ts stddev_ts")"
		bpt=$(csv_get "$csv" "" "" "" model_bytes_per_token)
		read -r lpp1 lpp1sd lpp2 lpp2sd ltg1 ltg1sd ltg2 ltg2sd <<<"$(llamacpp "$t")"
		ft=$(first_token "$err" 2)
		rss=$(peak_rss "$err")
		read -r ppct pbound _ pfpct pall <<<"$(paired "$t-paired" "$bpt" 1)"
		paired_notes="${paired_notes:-}${paired_notes:+; }$t: $pall"
		awk -v t="$t" -v size="$(size_of "$m")" \
			-v ours="$(pm "$pp1" "$pp1sd") | $(pm "$pp2" "$pp2sd") | $(pm "$tg1" "$tg1sd") | $(pm "$tg2" "$tg2sd")" \
			-v theirs="$lpp1 ± $lpp1sd | $lpp2 ± $lpp2sd | $ltg1 ± $ltg1sd | $ltg2 ± $ltg2sd" \
			-v pp2="$pp2" -v tg2="$tg2" -v lpp2="$lpp2" -v ltg2="$ltg2" \
			-v bpt="$bpt" -v ppct="$ppct" -v pbound="$pbound" -v pfpct="$pfpct" -v lbw2="$llamacpp_bw2" -v ft="${ft:-n/a}" -v rss="${rss:-n/a}" '
		function ratio(a, b) { return a == "" ? "n/a" : sprintf("%.2f", a / b) }
		BEGIN {
			lbound = bpt == "" ? "" : lbw2 * 1e9 / bpt
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				t, size, ours, theirs, ratio(pp2, lpp2), ratio(tg2, ltg2),
				bpt == "" ? "n/a" : sprintf("%.1f MB", bpt / 1e6),
				pbound == "n/a" ? "n/a" : sprintf("%.2f t/s", pbound),
				ppct, pfpct,
				lbound == "" ? "n/a" : sprintf("%.0f%%", 100 * ltg2 / lbound),
				ft, rss
		}'
	done
	if [ -f "bench/out/$first_type-novnni.csv" ]; then
		echo
		echo "Without AVX-512 VNNI (\`LLAMUX_CPU=avx512\`; llama.cpp's machine has none), 2 threads:"
		echo
		echo "| type | $pp t=2 | $tg t=2 | $pp ours/llama.cpp | $tg ours/llama.cpp | $tg % of bound | $tg % of the model file's read rate | first token |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		for t in $types; do
			csv=bench/out/$t-novnni.csv
			[ -f "$csv" ] || continue
			read -r pp2 pp2sd <<<"$(csv_get "$csv" "$n_prompt" 0 2 "avg_ts stddev_ts")"
			read -r tg2 tg2sd <<<"$(csv_get "$csv" 0 "$n_gen" 2 "avg_ts stddev_ts")"
			bpt=$(csv_get "$csv" "" "" "" model_bytes_per_token)
			read -r _ _ lpp2 _ _ _ ltg2 _ <<<"$(llamacpp "$t")"
			ft=$(first_token "bench/out/$t-novnni.err" 2)
			read -r ppct _ _ pfpct pall <<<"$(paired "$t-novnni-paired" "$bpt" 1)"
			novnni_notes="${novnni_notes:-}${novnni_notes:+; }$t: $pall"
			awk -v t="$t" -v pp="$(pm "$pp2" "$pp2sd")" -v tg="$(pm "$tg2" "$tg2sd")" \
				-v pp2="$pp2" -v tg2="$tg2" -v lpp2="$lpp2" -v ltg2="$ltg2" \
				-v ppct="$ppct" -v pfpct="$pfpct" -v ft="${ft:-n/a}" '
			function ratio(a, b) { return a == "" ? "n/a" : sprintf("%.2f", a / b) }
			BEGIN {
				printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t, pp, tg,
					ratio(pp2, lpp2), ratio(tg2, ltg2), ppct, pfpct, ft
			}'
		done
	fi
	echo
	echo "The model read into memory (\`--mmap 0\`, llama.cpp's \`--no-mmap\`) against mapped (the default), 2 threads: the same paired runs, each measuring both between the same bandwidth readings (medians of the three by % of bound):"
	echo
	echo "| type | CPU level | $tg mapped | % of bound | $tg read in | % of bound | read in / mapped |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for t in $types; do
		for v in "" -novnni; do
			[ -f "bench/out/$t$v-paired-tg1.csv" ] || continue
			bpt=$(csv_get "bench/out/$t$v-paired-tg1.csv" "" "" "" model_bytes_per_token)
			lvl=$(csv_get "bench/out/$t$v-paired-tg1.csv" "" "" "" cpu_level)
			read -r mpct _ mtg _ _ <<<"$(paired "$t$v-paired" "$bpt" 1)"
			read -r rpct _ rtg _ rall <<<"$(paired "$t$v-paired" "$bpt" 0)"
			readin_notes="${readin_notes:-}${readin_notes:+; }$t ($lvl): $rall"
			awk -v t="$t" -v lvl="$lvl" -v mtg="$mtg" -v mpct="$mpct" \
				-v rtg="$rtg" -v rpct="$rpct" 'BEGIN {
				printf "| %s | %s | %s t/s | %s | %s t/s | %s | %s |\n", t, lvl,
					mtg, mpct, rtg, rpct,
					(mtg + 0 > 0 && rtg + 0 > 0) ? sprintf("%.2f", rtg / mtg) : "n/a"
			}'
		done
	done
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- llamux: git commit $commit, CPU level ${level:-unknown}"
	echo "- CPU: ${cpu:-unknown} ($(nproc) CPUs online), load average $load at the start"
	echo "- read bandwidth (bench/bandwidth.c, $bw_mib MiB array, best of 5) at the end: $bw1 GB/s with 1 thread, $bw2 GB/s with 2 threads"
	echo "- % of bound: three 2-thread runs \`llamux bench -p 0 -n $n_gen -t 2 -r 2 --mmap 1,0\` per type, each between two 2-thread bandwidth readings; a run's bound is the mean of its two readings / bytes read per token; the table shows the median run and its bound. % of the model file's read rate: the same run against \`bandwidth -f MODEL -t 2\` (the model's own mapped pages summed the same way, best of 5), read right before and after it. Mapped runs (tg, readings before → after): ${paired_notes:-none}"
	if [ -n "${novnni_notes:-}" ]; then
		echo "- the same without VNNI: $novnni_notes"
	fi
	echo "- the same runs' read-in measurements (\`--mmap 0\`: the whole file read once into anonymous memory advised for 2 MiB pages): ${readin_notes:-none}"
	echo "- command: \`bench/run.sh${args:+ $args}\`, which runs for each type \`$llamux bench -m bench/models/$prefix-TYPE.gguf -p $n_prompt -n $n_gen -t $threads -r $reps -o csv\`"
	echo "- models: \`llamux mkmodel --shape $shape --type f16 --vocab-from $vocab --seed 1\`, then \`llamux quantize F16-FILE OUT TYPE\`"
	echo "- llama.cpp: Feb 2025 build, llama-bench, CPU only, on a machine of this type (2 cores, AVX-512 F/BW/VL/DQ, no VNNI; read bandwidth measured there 9.0 GB/s with 1 thread, 18.5 GB/s with 2); its file sizes: F16 2.05 GiB, Q8_0 1.09 GiB, Q4_0 607 MiB, Q4_K_M 636 MiB"
	echo "- t/s: mean ± standard deviation over the runs after one warmup, model load excluded; bytes read per token: all tensor bytes except the token embedding table (one row of it is read), output matrix included; tg bound: 2-thread read bandwidth / bytes read per token, as above (for llama.cpp: its machine's $llamacpp_bw2 GB/s); first token: a 16-token prompt to the first generated token's logits"
	if [ "$n_prompt" != 512 ] || [ "$n_gen" != 128 ]; then
		echo "- note: a short run ($pp, $tg); the ratios still divide by llama.cpp's pp512 and tg128"
	fi
} >"$results"
step "wrote $results"
cat "$results"
