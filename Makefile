# zhanye — the front door. Meson + Ninja do the building; this file only
# orders the steps so that two commands work from a fresh clone.
SHELL := /bin/bash
DATA ?= ./var
LISTEN ?= 127.0.0.1:8080
BUILD ?= build
TESTBUILD ?= build-test
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 30

.PHONY: all deps build run test bench bench-cluster fuzz fmt fmt-check lint clean cluster cluster-down

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dwerror=true

# The C build, then the web apps (web/dist, when their sources changed).
build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)
	@scripts/web.sh

run: build
	@scripts/run.sh $(BUILD) $(DATA) $(LISTEN)

$(TESTBUILD)/build.ninja:
	meson setup $(TESTBUILD) --buildtype=debug -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dwerror=true

test: build $(TESTBUILD)/build.ninja
	@scripts/test.sh $(TESTBUILD)

bench: build
	@scripts/bench.sh $(BUILD)

# Secure tx/s through HAProxy with one node and with two (a cluster of its own).
bench-cluster: build
	@scripts/bench-cluster.sh $(BUILD)

# A province on loopback (docs/deploy.md): MariaDB, Redis, two nodes, HAProxy.
cluster: build
	@scripts/cluster.sh start $(BUILD)

cluster-down:
	@scripts/cluster.sh down

$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) --buildtype=debugoptimized -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps $(FUZZBUILD)/build.ninja
	@ninja -C $(FUZZBUILD)
	@scripts/fuzz.sh $(FUZZBUILD) $(FUZZ_SECONDS)

fmt:
	@git ls-files --cached --others --exclude-standard '*.c' '*.h' | xargs clang-format -i

fmt-check:
	@git ls-files --cached --others --exclude-standard '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
