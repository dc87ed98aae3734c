# Speech recognition: evaluation and benchmark of the streaming engine.
.PHONY: eval-asr bench-asr

eval-asr: build ## ASR word error rate on speech-en + pocketsphinx-testdata (16 kHz, VAD path, 8 kHz mu-law)
	node dist/tools/asr/evalAsr.js

bench-asr: build ## ASR cost vs sherpa-onnx-node (CPU s per audio s), concurrent real-time streams, RSS per stream
	node --expose-gc dist/tools/asr/benchAsr.js

.PHONY: eval-kws-zh
eval-kws-zh: build ## Chinese keywords on the Mandarin model: detections on speech-zh (16 kHz, 8 kHz mu-law), false alarms per hour over all zh/en audio
	node dist/tools/asr/evalKwsZh.js

# CrossWOZ user turns (Apache-2.0, not committed): unzip CrossWOZ/data/crosswoz/test.json.zip into one of these;
# with neither present the tool uses its built-in sentences.
HANZI_TEXT ?= $(firstword $(wildcard ../shared/datasets/text-zh/test.json ../shared/datasets/intent/crosswoz/test.json))
.PHONY: eval-hanzi
eval-hanzi: build ## pinyin → characters on text alone: character accuracy with/without the LM at 0/10/20% tone errors, ms per sentence and per 40-syllable × 4-hypothesis call
	node dist/tools/asr/hanziRoundTrip.js $(HANZI_TEXT)

.PHONY: eval-asr-zh
eval-asr-zh: build ## Mandarin model on speech-zh: character error rate with and without the pinyin-to-character LM, pinyin error rate, 16 kHz and 8 kHz G.711; CPU per audio s next to English; language auto accuracy
	node dist/tools/asr/evalAsrZh.js

.PHONY: bench-asr-ops
bench-asr-ops: build ## encoder time by operator type (onnxruntime profiler): exact encoder at batch 1, batchable encoder at BENCH_OPS_BATCHES (1,16,64); BENCH_OPS_PAIR=FILE times a candidate encoder against it
	node dist/tools/asr/encoderOps.js
