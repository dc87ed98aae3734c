# SIP / RTP media termination (issue 4): parser fuzzing.
.PHONY: bench-sip-fuzz

bench-sip-fuzz: build ## mutation-fuzz SIP/SDP/SIPREC/RTP parsers (>=100k inputs) and a live SIP server; prints counts
	node --expose-gc dist/appliance/sip/tools/benchFuzz.js --n 120000 --server-n 20000
