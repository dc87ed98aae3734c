# ACD mode (acd.mode: acd): the box answers, routes, rings registered agents' phones and bridges.
.PHONY: bench-acd

BENCH_ACD_ARGS ?= --steps 4,8,16,24 --seconds 20

bench-acd: setup ## ACD mode: N callers routed and bridged to N registered agents' phones, ramped; caller->agent delay on the wire (p50/p95, target p95 <= 40 ms) and the highest real-time N next to the analysis-only make bench capacity of the same run
	node bin/edgevox.js bench-acd $(BENCH_ACD_ARGS) --out test/bench-results/bench-acd.json
