# Post-call summaries: scored against hand-written references of 20 scripted calls.
.PHONY: eval-summary

eval-summary: build ## post-call summary on 20 scripted calls (16 English, 4 Mandarin): reason and outcome accuracy, follow-up recall/precision, ROUGE-L F1 vs the references, tune and held-out halves
	node dist/tools/assist/evalSummary.js
