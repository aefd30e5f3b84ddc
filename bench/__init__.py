"""The jwt-guard benchmark (`make bench`, i.e. bench/run.sh, which runs `python -m bench`), built on the harness.

tokens: Auth0-shaped tokens and the token files wrk and the profiler read;
scenarios: the Envoy configurations, workloads and the run plan;
features: the feature cost table's configurations (each feature off, then on);
runner: Envoys per phase, wrk runs, cache priming, CPU and load accounting, perf;
report: bench/results.md (tables, memory, latency, cost per verification), with targets (the targets table),
feature_table (the feature cost table) and scaling (one worker vs two); rows: looking up measured rows;
profiling: bench/profile (the filter's own steps, natively, under callgrind and in V8);
dpop_cost: DPoP's per-request cost next to bearer tokens (its rows in `make bench`, alone `make bench-dpop`);
instructions: Envoy instructions per request under callgrind (`make bench-instructions`, bench/instructions.md).
"""
