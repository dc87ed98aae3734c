# Conversation insight: text sentiment per utterance, contact reasons and their trends.
.PHONY: eval-sentiment

eval-sentiment: build ## text sentiment (VADER, English) on 60 labelled contact-centre utterances: accuracy of the dev and held-out halves, per-class recall, dev-only threshold sweep, CPU per final
	node dist/tools/insight/evalSentiment.js
