# Intent and emotion models: training (fixed seeds, reproducible) and evaluation.
# Datasets are read from $(EDGEVOX_SHARED)/datasets; the trained files land in models/intent and models/emotion.
.PHONY: models models-intent models-emotion models-asr-batch eval-intent eval-emotion models-intent-zh eval-intent-zh
EDGEVOX_SHARED ?= ../shared
# CrossWOZ (thu-coai/CrossWOZ data/crosswoz/{val,test}.json.zip, Apache-2.0) for the Chinese intent model.
CROSSWOZ_DIR ?= $(EDGEVOX_SHARED)/datasets/intent/crosswoz

models: models-intent models-emotion ## retrain the intent (BANKING77) and emotion (RAVDESS) models, fixed seeds

models-intent: build ## retrain the intent model -> models/intent (2-5 min wall on the shared 2-core box)
	node dist/models/pipelines/intent/train.js --out models/intent --shared "$(EDGEVOX_SHARED)"

# models-emotion always recomputes the features (the cache is cleared first) and leaves them in
# .cache/emotion-features for eval-emotion, which recomputes them only when that cache is absent.
models-emotion: build ## retrain the emotion model -> models/emotion (28 min wall measured on the shared 2-core box at load 10-20)
	rm -rf .cache/emotion-features
	node dist/models/pipelines/emotion/train.js --out models/emotion --shared "$(EDGEVOX_SHARED)" --cache .cache/emotion-features

models-intent-zh: build ## retrain the Chinese intent model on CrossWOZ val -> models/intent-zh (seconds)
	node dist/models/pipelines/intent/trainZh.js --out models/intent-zh --data "$(CROSSWOZ_DIR)"

eval-intent-zh: build ## Chinese intent accuracy on CrossWOZ test (as typed and unpunctuated), latency of the shipped model
	node dist/models/pipelines/intent/evalZh.js --model models/intent-zh/intent.json --data "$(CROSSWOZ_DIR)"

eval-intent: build ## BANKING77 test accuracy, CLINC150 out-of-scope detection, latency of the shipped intent model
	node dist/models/pipelines/intent/eval.js --model models/intent/intent.json --shared "$(EDGEVOX_SHARED)"

eval-emotion: build ## emotion leave-actors-out CV on RAVDESS, clean 16 kHz and 8 kHz G.711 (retrains the folds)
	node dist/models/pipelines/emotion/train.js --eval-only --out models/emotion --shared "$(EDGEVOX_SHARED)" --cache .cache/emotion-features

models-asr-batch: build ## remake the batchable ASR encoder -> models/asr-batch from the installed zipformer2 model (seconds; same source, same bytes)
	node dist/models/pipelines/asr/export.js --source "$(EDGEVOX_SHARED)/models/asr/zipformer-gigaspeech-3.3m" --out models/asr-batch
