"""Test harness for jwt-guard: token minting, a JWKS server, an echo upstream and an Envoy launcher."""
