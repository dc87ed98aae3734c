# Chat load next to voice load. Prints figures and writes test/bench-results/bench-chat.json; never
# asserts timings (the suite does not run it).
.PHONY: bench-chat
# BENCH_CHAT_ARGS: --visitors N --messages-per-minute M --steps 2,4,6 --seconds 30 --shared-dir DIR
bench-chat: build ## N chat visitors (M messages/min each, simulated agents answering over the chat socket) next to a voice ramp, each step without then with chat: message latency p50/p95 both ways and the highest real-time call count without and with chat
	node dist/tools/bench/chatBench.js $(BENCH_CHAT_ARGS)
