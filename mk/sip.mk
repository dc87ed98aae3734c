# SIP / RTP media termination: parser fuzzing.
.PHONY: bench-sip-fuzz

bench-sip-fuzz: build ## mutation-fuzz SIP/SDP/SIPREC/RTP parsers (>=100k inputs) and a live SIP server; prints counts
	node --expose-gc dist/tools/sip/benchFuzz.js --n 120000 --server-n 20000

.PHONY: bench-sip-media
bench-sip-media: build ## sipp N concurrent PCMU speech calls into the SIP server (media only, no ASR): completed/failed, dropped frames, lag, CPU, RSS, highest real-time N
	node dist/tools/telephony/benchCalls.js --calls 50,100,200 --seconds 20

.PHONY: bench-srtp
bench-srtp: build ## CPU cost of SRTP protect/unprotect per 20 ms G.711 packet, each suite, next to a plain buffer copy
	node dist/tools/bench/srtpCost.js

.PHONY: bench-sip-secure bench-sip-secure-media
BENCH_SIP_SECURE_ARGS ?= --steps 16,32,40,48,56,64 --seconds 30 --all-steps
bench-sip-secure: setup ## the whole appliance (ASR included) under our callers over SIP/UDP + RTP and SIP/TLS + SRTP, alternating per step: highest real-time N of each, capacity ratio secure/plain (goal >= 0.85)
	node bin/edgevox.js bench-sip --secure-vs-plain $(BENCH_SIP_SECURE_ARGS) --out test/bench-results/bench-sip-secure.json

bench-sip-secure-media: build ## media termination only (no ASR): SIP/TLS + SRTP vs SIP/UDP + RTP into the SIP server, CPU per call-second, loop p99, dropped, lag
	node dist/tools/telephony/benchSecureCalls.js --calls 50,100,200 --seconds 20

.PHONY: interop-sip
interop-sip: setup ## third-party phones (baresip, linphonec) call the SIP server over UDP/TCP/TLS x RTP/SRTP x PCMU/PCMA/G.722; prints the matrix
	npx vitest run --config vitest.interop.config.ts
