# Makefile fragment for the real-guest rig; the main Makefile includes it and defines
# DAEMONS (the out/vhost-user-* targets). Targets:
#   guest-assets  QEMU 10, guest kernel, busybox, guest tools (rig/fetch-assets.sh; root to install)
#   demo          boots one guest that uses every daemon built in out/ and prints what it saw
#                 (DEMO_ARGS=--builtin tries it with QEMU's own virtio-rng, DEMO_ARGS=--mmio on microvm)
#   count-trx     prints "N passed, N failed, N skipped" for the .trx files under TestResults/

RIG_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
DEMO_PROJECT := $(RIG_DIR)Demo/VhostUser.EndToEnd.Demo.csproj
DEMO_ARGS ?=

.PHONY: guest-assets demo count-trx

guest-assets:
	bash $(RIG_DIR)rig/fetch-assets.sh

demo: guest-assets $(DAEMONS)
	dotnet run --project $(DEMO_PROJECT) -c Release -- $(DEMO_ARGS)

count-trx:
	bash $(RIG_DIR)rig/count-trx.sh TestResults
