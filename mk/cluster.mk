# Several boxes behind the Kamailio front (provisioning/kamailio, docs/cluster.md).
.PHONY: bench-cluster

BENCH_CLUSTER_ARGS ?=

bench-cluster: build ## capacity through the Kamailio front with two boxes vs one box called directly, in the same run: calls per box, failures, worst lag, set-up time, the front's CPU; highest real-time N of each (one machine: the front's overhead, not scale)
	node dist/tools/cluster/benchCluster.js $(BENCH_CLUSTER_ARGS)
