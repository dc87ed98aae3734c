# Agent assist: knowledge cards from the knowledge base on the box.
.PHONY: eval-assist

eval-assist: build ## agent assist in one run: knowledge cards (top-1 and MRR@10 of the 77-article BANKING77 knowledge base on the BANKING77 test utterances, BM25 alone and with intent boosting, text-only margin, feedback re-ranking, final-to-card latency, re-indexing lag), then eval-summary's and eval-qa-semantic's figures
	node dist/tools/assist/evalAssist.js
	node dist/tools/assist/evalSummary.js
	node dist/tools/qa/evalSemantic.js
