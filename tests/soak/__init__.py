"""The soak (`make soak`, i.e. `python -m tests.soak`; not in CI, not in make test): Envoy with jwt-guard under steady
load for SOAK_S seconds (default 1800) while its listener configuration is pushed from a file, the IdP rotates keys
and the JWKS endpoint fails; every response is checked against the configuration that answered it.

idp: the rotating key set (Auth0's order: pre-publish, sign with the next key, retire the old) and the outages;
configs: the plugin configuration versions and the listener file they are pushed in (atomic rename, LDS);
traffic: the load generator, its token classes and the recording upstream;
checks: what each answer must be under the configuration that gave it, and the violations found;
__main__: the schedule, the samples (JWKS fetches, RSS) and the summary.
"""
