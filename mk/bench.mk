# Whole-appliance benchmarks. They print figures and write JSON under
# test/bench-results/; they never assert timings (the suite does not run them).
.PHONY: bench-sip

BENCH_SIP_ARGS ?=

bench-sip: setup ## N concurrent sipp calls streaming speech for 60 s into a real appliance; ramps up to the highest real-time N
	node bin/edgevox.js bench-sip $(BENCH_SIP_ARGS)

SOAK_MINUTES ?= 30
SOAK_ARGS ?=

.PHONY: soak
soak: setup ## steady load at 70% of capacity for SOAK_MINUTES (default 30); RSS/fds/latency plots in test/bench-results/
	node bin/edgevox.js soak --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# make bench: analysis of the caller leg only (sipp callers into the analysis box). Ramps twice in one
# run, each on a fresh appliance with the same steps: asr.encoder exact (today's batch-1 encoder), then
# batched; prints both capacities and batched/exact, raw and normalised by a machine reference
# measured in the same run (sherpa-onnx single-stream cost on the eval clips, before and after), with
# per step the load generators' CPU and the appliance's busiest threads. One encoder only:
# BENCH_ARGS='--encoders batched'.
BENCH_ARGS ?=

.PHONY: bench
bench: setup ## whole pipeline under load, exact and batched ASR encoder, ramped to the highest real-time call count (raw and normalised by a machine reference), then admission control beyond it; JSON + markdown in test/bench-results/
	node bin/edgevox.js bench $(BENCH_ARGS)

.PHONY: faults
faults: setup ## only the fault tests (they also run in make test): SIGKILL mid-call, corrupt model, disk full, upstream down, INVITE flood, worker crash, malformed input
	npx vitest run test/integration/faults test/integration/sync test/integration/calls/transcription-failure.test.ts
