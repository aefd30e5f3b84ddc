//! Development tools for jwt-guard, for the demo and for learning the flow it protects:
//!
//! - `dev-idp` ([`idp`]): a local identity provider that answers like an Auth0 tenant
//!   (Authorization Code + PKCE for the SPA, client credentials for machines);
//! - `echo-upstream` ([`echo`]): an API that answers with the request it received;
//! - `spa-server` ([`spa`]): serves the demo single-page app from its own origin.
//!
//! Each is an [axum](https://docs.rs/axum) service on tokio: axum is the tokio project's
//! own web framework, so routing, extractors, body limits and graceful shutdown come from
//! one well-kept stack (hyper, tower, tower-http) instead of hand-written HTTP.
//! Development and demo use only.

pub mod echo;
pub mod idp;
pub mod serve;
pub mod spa;
