# Entry points. The README names two of them: `make demo` and `make test`.
.PHONY: all bootstrap build release test unit demo lint format format-check fuzz-long clean

all: build

bootstrap:
	bash scripts/bootstrap.sh

build:
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON
	cmake --build build/debug -j

release:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF
	cmake --build build/release -j

test:
	bash scripts/test.sh

unit: build
	ctest --test-dir build/debug --output-on-failure -L unit

demo:
	bash scripts/demo.sh

lint: build
	bash scripts/lint.sh

format:
	bash scripts/format.sh

format-check:
	bash scripts/format.sh --check

fuzz-long:
	bash scripts/fuzz.sh $${FUZZ_SECONDS:-600}

clean:
	rm -rf build

# Soak (not part of `make test`): the chaos scenarios SOAK_TRIALS times (default 100) and
# SOAK_ROLLING_RESTARTS rolling restarts in a row; writes bench/results/soak.md.
.PHONY: soak
soak:
	bash scripts/soak.sh
