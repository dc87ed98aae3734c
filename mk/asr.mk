# Speech recognition: evaluation and benchmark of the streaming engine.
.PHONY: eval-asr bench-asr

eval-asr: build ## ASR word error rate on speech-en + pocketsphinx-testdata (16 kHz, VAD path, 8 kHz mu-law)
	node dist/tools/asr/evalAsr.js

bench-asr: build ## ASR cost vs sherpa-onnx-node (CPU s per audio s), concurrent real-time streams, RSS per stream
	node --expose-gc dist/tools/asr/benchAsr.js
