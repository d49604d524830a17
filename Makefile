# SPDX-License-Identifier: GPL-2.0 OR MIT
# The two set-up commands of the README, on top of CMake:
#   make run     build, then generate text (MODEL=..., PROMPT=..., N=...)
#   make check   build with -Werror, run every test, again under ASan+UBSan,
#                fuzz the GGUF reader for FUZZ_SECONDS, then the kernel
#                module's tests (checkpatch, DKMS, QEMU boots of 6.1 and 6.12)
MODEL ?= ../shared/models/stories260K.gguf
PROMPT ?= Once upon a time
N ?= 200
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build run check test test-asan fuzz kernel-check clean

all: build

build:
	@scripts/deps.sh build
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	cmake --build build -j$(JOBS)

run: build
	@if [ ! -f "$(MODEL)" ]; then \
		echo "no model at $(MODEL); run: make run MODEL=/path/to/model.gguf"; exit 1; fi
	build/llamux run -m "$(MODEL)" -p "$(PROMPT)" -n $(N)

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
