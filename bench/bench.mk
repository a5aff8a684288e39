# bench/bench.mk — the end-to-end bench tool and the micro benchmarks (docs/performance.md).
# Included by the main Makefile (-include bench/bench.mk); uses its OUT, PUBLISH, DOTNET, CONFIG
# and CORE_SOURCES.
#
#   make bench-tool     out/vhost-user-bench (Native AOT, like the daemons)
#   make bench-micro    BenchmarkDotNet suite, short in-process job (BENCH_MICRO_ARGS to filter)

BENCH_TOOL         := $(OUT)/vhost-user-bench
BENCH_TOOL_SOURCES := $(shell find src/VhostUser.Frontend bench/VhostUser.Bench \( -name bin -o -name obj \) -prune -o \( -name '*.cs' -o -name '*.csproj' \) -print)
BENCH_MICRO_ARGS   ?= --filter '*'

.PHONY: bench-tool bench-micro
bench-tool: $(BENCH_TOOL)

$(BENCH_TOOL): $(CORE_SOURCES) $(BENCH_TOOL_SOURCES)
	@mkdir -p $(OUT)
	$(DOTNET) publish bench/VhostUser.Bench -c $(CONFIG) -o $(PUBLISH)/bench --nologo -v quiet -p:DebugType=none
	cp $(PUBLISH)/bench/vhost-user-bench $@.tmp && mv -f $@.tmp $@

bench-micro:
	$(DOTNET) run -c Release --project bench/VhostUser.Benchmarks -- $(BENCH_MICRO_ARGS)
