# Agent assist: knowledge cards from the knowledge base on the box.
.PHONY: eval-assist

eval-assist: build ## knowledge cards: top-1 and MRR@10 of the 77-article BANKING77 knowledge base on the BANKING77 test utterances (BM25 alone and with intent boosting; tuning and held-out halves), search time, event-loop delay while re-indexing ~2,000 articles
	node dist/tools/assist/evalAssist.js
