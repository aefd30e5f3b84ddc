"""The feature cost table's configurations: the plain jwt-guard configuration, then each feature off and on, all at
`--concurrency 1` with one repeated, valid RS256 token (a cache hit, so what a feature adds per request shows)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The plain path, and one the filter must judge under every reading: a doubled slash, a dot segment, a
# percent-encoded letter and an encoded slash (every reading still falls under the `/api` rule: served 200).
PLAIN_PATH = "/api/items"
READINGS_PATH = "/api//items/./%69tem%2F1"
TOKEN_COOKIE = "access_token"
RULE = {"prefix": "/api"}
FORWARD_3 = {"sub": "x-jwt-sub", "scope": "x-jwt-scope", "azp": "x-jwt-azp"}
FORWARD_10 = {**FORWARD_3, "iss": "x-jwt-iss", "aud": "x-jwt-aud", "iat": "x-jwt-iat", "exp": "x-jwt-exp",
              "permissions": "x-jwt-permissions", "org_id": "x-jwt-org", "email": "x-jwt-email"}
# What the feature rows send (bench/tokens.py's ten-claim token, repeated): workload -> (path, header, prefix).
REQUESTS = {
    "feature": (PLAIN_PATH, "Authorization", "Bearer "),
    "feature_readings": (READINGS_PATH, "Authorization", "Bearer "),
    "feature_cookie": (PLAIN_PATH, "Cookie", f"{TOKEN_COOKIE}="),
}


@dataclass(frozen=True)
class Feature:
    """One line of the table: a configuration (`key`, built from the plain one plus `top`-level and `provider` keys),
    the workload it is measured with, and whether it is the baseline, a feature's off or its on setting."""

    key: str
    feature: str
    setting: str
    workload: str
    role: str  # baseline | off | on
    top: dict = field(default_factory=dict)
    provider: dict = field(default_factory=dict)


FEATURES = (
    Feature("feat_base", "baseline", "plain jwt-guard configuration (no rules, default keys)", "feature",
            "baseline"),
    Feature("feat_paths", "path readings", f"off: plain path `{PLAIN_PATH}` (one rule `/api`)", "feature", "off",
            {"rules": [RULE]}),
    Feature("feat_paths", "path readings", f"on: `{READINGS_PATH}` (same configuration)", "feature_readings", "on",
            {"rules": [RULE]}),
    Feature("feat_fc0", "`forward_claims`", "off: `{}` (0 entries)", "feature", "off", {"forward_claims": {}}),
    Feature("feat_fc3", "`forward_claims`", "on: 3 entries", "feature", "on", {"forward_claims": FORWARD_3}),
    Feature("feat_fc10", "`forward_claims`", "on: 10 entries", "feature", "on", {"forward_claims": FORWARD_10}),
    Feature("feat_dpop_off", "`dpop` (Bearer tokens)", 'off: `"off"`', "feature", "off", provider={"dpop": "off"}),
    Feature("feat_dpop_on", "`dpop` (Bearer tokens)", 'on: `"allowed"` (the default)', "feature", "on",
            provider={"dpop": "allowed"}),
    Feature("feat_src_header", "`token_sources`", 'off: the default, `[{"header": "authorization", "scheme": '
            '"Bearer"}]`', "feature", "off",
            {"token_sources": [{"header": "authorization", "scheme": "Bearer"}]}),
    Feature("feat_src_cookie", "`token_sources`", f'on: `[{{"cookie": "{TOKEN_COOKIE}"}}]`, the token in a cookie',
            "feature_cookie", "on", {"token_sources": [{"cookie": TOKEN_COOKIE}]}),
    Feature("feat_claims_off", "`claims` rule", "off: rule `/api` with `claims: []`", "feature", "off",
            {"rules": [{**RULE, "claims": []}]}),
    Feature("feat_claims_on", "`claims` rule", 'on: rule `/api` requiring `org_id` equals `"org_bench"`', "feature",
            "on", {"rules": [{**RULE, "claims": [{"claim": "org_id", "equals": "org_bench"}]}]}),
    Feature("feat_mode_off", "report mode", 'off: rule `/api` with `"mode": "enforce"`', "feature", "off",
            {"rules": [{**RULE, "mode": "enforce"}]}),
    Feature("feat_mode_on", "report mode", 'on: rule `/api` with `"mode": "report"`', "feature", "on",
            {"rules": [{**RULE, "mode": "report"}]}),
)


def feature_plugin(base: dict, f: Feature) -> dict:
    """The plain plugin configuration `base` with `f`'s keys set."""
    plugin = {**base, **f.top}
    plugin["providers"] = [{**base["providers"][0], **f.provider}, *base["providers"][1:]]
    return plugin
