# vhostd — build every daemon as a Native AOT executable at out/vhost-user-<name>, run every test,
# boot a demo guest. The targets and out/ paths are an outside contract: scripts depend on them.
#
#   make            build out/vhost-user-* (daemons and tools)
#   make test       build, then run every test project (unit, front end ↔ back end, devices,
#                   real QEMU guests) and print "N passed, N failed"
#   make demo       boot a guest that uses the daemons and print what it saw
#   make bench      run the end-to-end benchmark
#   make clean

DOTNET      ?= dotnet
CONFIG      ?= Release
OUT         := out
PUBLISH     := $(OUT)/.publish
TESTRESULTS := TestResults
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

# One daemon per folder under src/Devices (folder Rng -> out/vhost-user-rng).
DEVICE_DIRS := $(patsubst %/,%,$(dir $(wildcard src/Devices/*/*.csproj)))
lower        = $(shell echo '$(1)' | tr 'A-Z' 'a-z')
DEVICE_NAMES := $(foreach d,$(DEVICE_DIRS),$(call lower,$(notdir $(d))))
DAEMONS     := $(addprefix $(OUT)/vhost-user-,$(DEVICE_NAMES))
# Tools built the same way (folder Probe -> out/vhost-user-probe).
TOOL_DIRS   := $(patsubst %/,%,$(dir $(wildcard src/Tools/*/*.csproj)))
TOOLS       := $(foreach d,$(TOOL_DIRS),$(OUT)/vhost-user-$(call lower,$(notdir $(d))))

CORE_SOURCES := $(shell find src/VhostUser -name '*.cs' -o -name '*.csproj') Directory.Build.props Directory.Packages.props src/Devices/Directory.Build.props
TEST_PROJECTS := $(sort $(wildcard test/*/*.Tests.csproj))

.PHONY: all test unit-test clean bench
all: $(DAEMONS) $(TOOLS)

# $(1) = project folder, $(2) = daemon name
define PUBLISH_RULE
$(OUT)/vhost-user-$(2): $(CORE_SOURCES) $(shell find $(1) -name '*.cs' -o -name '*.csproj' 2>/dev/null) $(3)
	@mkdir -p $(OUT)
	$(DOTNET) publish $(1) -c $(CONFIG) -o $(PUBLISH)/$(2) --nologo -v quiet -p:DebugType=none
	cp $(PUBLISH)/$(2)/vhost-user-$(2) $$@.tmp && mv -f $$@.tmp $$@
endef
$(foreach d,$(DEVICE_DIRS),$(eval $(call PUBLISH_RULE,$(d),$(call lower,$(notdir $(d))))))
$(foreach d,$(TOOL_DIRS),$(eval $(call PUBLISH_RULE,$(d),$(call lower,$(notdir $(d))),$(shell find src/VhostUser.Frontend -name '*.cs' -o -name '*.csproj'))))

# Every test project, each with its own trx file; the guest tests need the built daemons.
test: all
	@rm -rf $(TESTRESULTS)
	@status=0; for p in $(TEST_PROJECTS); do \
		name=$$(basename $$p .csproj); \
		echo "== $$name"; \
		$(DOTNET) test $$p -c $(CONFIG) --nologo --logger "trx;LogFileName=$$name.trx" --logger "console;verbosity=normal" \
			--results-directory $(TESTRESULTS) || status=1; \
	done; \
	bash test/EndToEnd/rig/count-trx.sh $(TESTRESULTS); \
	exit $$status

# Unit and in-process tests only (no daemons, no guests): the quick loop while coding.
unit-test:
	@for p in $(filter-out %EndToEnd.Tests.csproj,$(TEST_PROJECTS)); do $(DOTNET) test $$p -c $(CONFIG) --nologo || exit 1; done

bench: all bench-tool
	bash bench/perf-run.sh

clean:
	rm -rf $(OUT) $(TESTRESULTS)
	find src test bench -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + 2>/dev/null || true

-include test/EndToEnd/rig.mk
-include bench/bench.mk

# The bench tool is built with everything else (out/vhost-user-bench).
all: bench-tool
