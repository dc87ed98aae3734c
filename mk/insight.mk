# Conversation insight: text sentiment per utterance, contact reasons and their trends.
.PHONY: eval-sentiment eval-trends

eval-sentiment: build ## text sentiment (VADER, English) on 60 labelled contact-centre utterances: accuracy of the dev and held-out halves, per-class recall, dev-only threshold sweep, CPU per final
	node dist/tools/insight/evalSentiment.js

eval-trends: build ## rising contact reasons on seeded Poisson series: false alarms per check and per topic-day on flat series, detection of x2/x3/x5 spikes, per usual hourly rate
	node dist/tools/insight/evalTrends.js
