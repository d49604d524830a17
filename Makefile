# SPDX-License-Identifier: GPL-2.0 OR MIT
# The two set-up commands of the README, on top of CMake:
#   make run     build, pull the default model (TinyLlama 1.1B Chat) once and
#                ask it a question; offline, use FALLBACK_MODEL instead
#                (MODEL=..., PROMPT=..., QUESTION=..., N=...)
#   make check   build with -Werror, run every test, again under ASan+UBSan,
#                fuzz the GGUF reader for FUZZ_SECONDS, then the kernel
#                module's tests (checkpatch, DKMS, QEMU boots of 6.1 and 6.12)
MODEL ?=
FALLBACK_MODEL ?= ../shared/models/stories260K.gguf
QUESTION ?= What does the Linux kernel do?
PROMPT ?=
N ?= 200
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build run check test test-asan fuzz kernel-check clean

all: build

build:
	@scripts/deps.sh build
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	cmake --build build -j$(JOBS)

# Without MODEL: `llamux model pull tinyllama` (a progress bar the first time,
# nothing to do afterwards) and a question in its chat format; when that
# fails (offline: it says so within seconds), FALLBACK_MODEL continues a story.
run: build
	@model="$(MODEL)"; prompt="$(PROMPT)"; \
	if [ -z "$$model" ]; then \
		if build/llamux model pull tinyllama; then \
			model=$$(build/llamux model path tinyllama) || exit 1; \
			[ -n "$$prompt" ] || prompt=$$(printf '<|user|>\n%s\n<|assistant|>\n' "$(QUESTION)"); \
		elif [ -f "$(FALLBACK_MODEL)" ]; then \
			echo "llamux: using $(FALLBACK_MODEL) instead"; \
			model="$(FALLBACK_MODEL)"; \
		else \
			echo "no model: connect to the network, or run: make run MODEL=/path/to/model.gguf"; exit 1; \
		fi; \
	elif [ ! -f "$$model" ]; then \
		echo "no model at $$model; run: make run MODEL=/path/to/model.gguf"; exit 1; \
	fi; \
	[ -n "$$prompt" ] || prompt="Once upon a time"; \
	set -x; build/llamux run -m "$$model" -p "$$prompt" -n $(N)

check:
	@scripts/deps.sh check
	$(MAKE) test test-asan fuzz kernel-check

test:
	cmake -S . -B build-check -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLAMUX_WERROR=ON >/dev/null
	cmake --build build-check -j$(JOBS)
	cd build-check && ctest --output-on-failure -j$(JOBS)

test-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLLAMUX_WERROR=ON \
		-DLLAMUX_SANITIZE=ON -DCMAKE_C_FLAGS=-O1 >/dev/null
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS)

fuzz:
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DLLAMUX_FUZZ=ON \
		-DBUILD_TESTING=OFF >/dev/null
	cmake --build build-fuzz -j$(JOBS) --target fuzz_gguf
	rm -rf build-fuzz/corpus && mkdir -p build-fuzz/corpus
	cp fuzz/seeds/* build-fuzz/corpus/
	@rc=0; build-fuzz/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-print_final_stats=1 -artifact_prefix=build-fuzz/ build-fuzz/corpus \
		> build-fuzz/fuzz.log 2>&1 || rc=$$?; \
	tail -n 25 build-fuzz/fuzz.log; \
	if [ $$rc -ne 0 ]; then echo "fuzzing found a problem (see build-fuzz/fuzz.log)"; fi; \
	exit $$rc

# llamux.ko: style, packaging, then booted in QEMU on Debian's 6.1 and 6.12
# kernels (all guest tests), and once without AVX (-cpu qemu64).
kernel-check: build
	tests/kernel/checkpatch.sh
	tests/kernel/packaging-test.sh
	tests/kernel/run-tests.sh --kver 6.1
	tests/kernel/run-tests.sh --kver 6.12
	tests/kernel/run-tests.sh --kver 6.1 --quick --cpu qemu64

clean:
	rm -rf build build-check build-asan build-fuzz build-kernel
