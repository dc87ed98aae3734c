# Routing: end-to-end routing evaluation on spoken BANKING77 test utterances.
.PHONY: eval-routing
EVAL_ROUTING_N ?= 200

eval-routing: build ## BANKING77 utterances spoken (espeak-ng, 5 voices) → 8 kHz G.711 → ASR → intent → route: routing accuracy, p95 decision latency (EVAL_ROUTING_N=200; 0 = all 3080)
	EVAL_ROUTING_N="$(EVAL_ROUTING_N)" EDGEVOX_SHARED="$${EDGEVOX_SHARED:-../shared}" node dist/tools/routing/evalRouting.js
