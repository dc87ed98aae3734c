# WebRTC media plane: the offline-built mediasoup worker.
#
# mediasoup's npm postinstall downloads a prebuilt worker from GitHub (unreachable here) and then
# tries to build with downloaded subprojects. native/mediasoup/build.sh builds the worker from the
# sources in node_modules/mediasoup/worker against Debian's libraries and caches it; exporting
# MEDIASOUP_WORKER_BIN makes mediasoup use that binary and makes its postinstall (npm ci) skip.
#
# A MEDIASOUP_WORKER_BIN given in the environment (e.g. a prebuilt worker) wins and nothing is built.
# Without make (plain `npm install` with MEDIASOUP_WORKER_BIN unset) mediasoup's own postinstall
# behaviour applies unchanged: on a machine with internet it fetches the prebuilt worker.

.PHONY: native-mediasoup

ifeq ($(origin MEDIASOUP_WORKER_BIN),environment)
native-mediasoup:
	@test -x "$(MEDIASOUP_WORKER_BIN)" || { echo "MEDIASOUP_WORKER_BIN=$(MEDIASOUP_WORKER_BIN) is not an executable file" >&2; exit 1; }
	@echo "mediasoup worker (from the environment): $(MEDIASOUP_WORKER_BIN)"
else
# Cheap: reads the mediasoup version and the compiler version, builds nothing.
export MEDIASOUP_WORKER_BIN := $(shell bash native/mediasoup/build.sh --print-path 2>/dev/null)

# Runs after npm ci (the worker sources come from node_modules/mediasoup) and after apt (compiler,
# meson, Debian -dev packages). The build itself is skipped when the cached binary exists.
native-mediasoup: apt deps
	@built=$$(bash native/mediasoup/build.sh) && \
	if [[ "$$built" != "$(MEDIASOUP_WORKER_BIN)" ]]; then \
	  echo "native-mediasoup: the worker is at $$built but this make run exported '$(MEDIASOUP_WORKER_BIN)'" >&2; \
	  echo "native-mediasoup: (the compiler or node_modules changed while make started); run make again" >&2; \
	  exit 1; \
	fi; \
	echo "mediasoup worker: $$built"
endif

setup: native-mediasoup

# The softphone (/agent) and "call us" (/call) pages: plain HTML + scripts bundled with esbuild into
# dist/web/webrtc, which the appliance serves. Part of `build`.
.PHONY: webrtc-web bench-webrtc
WEBRTC_WEB_STAMP := dist/web/webrtc/.edgevox-web-stamp
WEBRTC_WEB_SOURCES := $(wildcard web/webrtc/*.ts web/webrtc/*.html web/webrtc/*.css web/webrtc/*.mjs) appliance/webrtc/sdpBridge.ts appliance/webrtc/protocol.ts
webrtc-web: $(WEBRTC_WEB_STAMP)
$(WEBRTC_WEB_STAMP): $(NPM_STAMP) $(WEBRTC_WEB_SOURCES)
	npx tsc -p web/webrtc/tsconfig.json
	node web/webrtc/build.mjs
	@touch $@
build: webrtc-web

# N simultaneous node-webrtc callers streaming speech into a real appliance: highest N that stays
# real-time, final latency p95, CPU (appliance, mediasoup workers, the bench's own callers), RSS.
BENCH_WEBRTC_ARGS ?=
bench-webrtc: build
	node bin/edgevox.js bench-webrtc $(BENCH_WEBRTC_ARGS)
