# Privacy: what redaction across utterances costs.
.PHONY: bench-redaction-hold

bench-redaction-hold: build ## share of real requests (banking77, clinc150) held by cross-utterance redaction, added latency, CPU per final
	node dist/tools/privacy/benchHold.js
