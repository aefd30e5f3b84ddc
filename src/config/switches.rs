//! The options chosen from a fixed set of values: `signature_backend`,
//! `ambiguous_paths`, `method_override`, and a rule's `mode`.

use super::choice::choice;

choice! {
    /// Which implementation checks signatures.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum SignatureBackend {
        /// The host where its start-up self-test passes, else jwt-simple.
        #[default]
        Auto = "auto",
        /// jwt-simple (pure Rust) only.
        JwtSimple = "jwt-simple",
        /// Envoy's BoringSSL for RS256/384/512 (required to pass its self-test).
        Host = "host",
        /// Both, refusing any token they disagree on (differential testing).
        Both = "both",
    }
}

choice! {
    /// What to do with a path whose readings select different requirements.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum AmbiguousPaths {
        /// Apply the strictest of them (the default).
        #[default]
        Strictest = "strictest",
        /// Refuse the request with 400 `invalid_request`.
        Reject = "reject",
    }
}

choice! {
    /// What to do with method-override headers (`X-HTTP-Method-Override`, …).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum MethodOverride {
        /// Judge the request as the strictest of its method and every override (the default).
        #[default]
        Judge = "judge",
        /// Remove the headers (every spelling) before the upstream sees them.
        Strip = "strip",
    }
}

choice! {
    /// A rule's `mode`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum Mode {
        /// Refusals are answered (the default).
        #[default]
        Enforce = "enforce",
        /// Every request continues; the verdict it would have had is counted and logged.
        Report = "report",
    }
}
