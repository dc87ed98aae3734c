# Privacy: what redaction across utterances costs.
.PHONY: bench-redaction-hold

bench-redaction-hold: build ## share of real requests (banking77, clinc150) held by cross-utterance redaction, added latency, CPU per final
	node dist/tools/privacy/benchHold.js

.PHONY: eval-redaction-zh
CROSSWOZ_DIR ?= $(EDGEVOX_SHARED)/datasets/intent/crosswoz
eval-redaction-zh: build ## share of ordinary Chinese sentences (CrossWOZ user turns, read from CROSSWOZ_DIR, not stored) that Chinese redaction changes, by category, typed and recogniser-style; share held; CPU per final
	node dist/tools/privacy/falsePositivesZh.js --data "$(CROSSWOZ_DIR)" --split $${CROSSWOZ_SPLIT:-test}
