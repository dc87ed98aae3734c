# The central collector: load of many sites on PostgreSQL, beside the SQLite file, in one run.
.PHONY: bench-collector

bench-collector: build ## 1,000 simulated sites upload signed hourly windows at once to a real collector on PostgreSQL (throwaway server, fsync on) and on SQLite: upload p50/p95/p99, stored rows/s, each window stored exactly once (counted) and all-site totals equal to what was sent
	node dist/tools/collector/benchCollector.js --sites $${COLLECTOR_SITES:-1000} --windows $${COLLECTOR_WINDOWS:-4}
