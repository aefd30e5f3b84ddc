"""The jwt-guard benchmark (`make bench`, i.e. bench/run.sh, which runs `python -m bench`), built on the harness.

tokens: Auth0-shaped tokens and the token files wrk and the profiler read;
scenarios: the Envoy configurations, workloads and the run plan;
runner: Envoys per phase, wrk runs, cache priming, CPU and load accounting, perf;
report: bench/results.md (tables, targets, cost per verification);
profiling: bench/profile (the filter's own steps, natively, under callgrind and in V8);
dpop_cost: DPoP's per-request cost next to a bearer token (`make bench-dpop`).
"""
