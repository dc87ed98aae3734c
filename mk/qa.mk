# QA: semantic rules (sentence embeddings) against keyword rules.
.PHONY: eval-qa-semantic

eval-qa-semantic: build ## keyword vs semantic QA rules on test/fixtures/qa/paraphrases.json: recall and false hits on the tune and held-out halves, threshold chosen on tune, embedding cost (load, ms per utterance, RSS), event-loop lag while a call is scored
	node dist/tools/qa/evalSemantic.js
