//! What every 401 challenge offers, derived from the providers: the schemes they accept,
//! the DPoP proof algorithms and the resource metadata URL.

use super::provider::Provider;
use crate::alg::Algorithm;
use crate::metadata::ResourceMetadata;
use crate::reject::challenge::Offer;

/// The proof algorithms some provider accepts, in jwt-guard's order.
pub(super) fn proof_algorithms(providers: &[Provider]) -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| {
            providers
                .iter()
                .any(|p| p.dpop.accepts_dpop() && p.algorithms.contains(a))
        })
        .collect()
}

/// What every 401 challenge offers.
pub(super) fn offer(providers: &[Provider], metadata: Option<&ResourceMetadata>) -> Offer {
    let algs: Vec<&str> = proof_algorithms(providers)
        .into_iter()
        .map(Algorithm::name)
        .collect();
    Offer {
        bearer: providers.iter().any(|p| p.dpop.accepts_bearer()),
        dpop: !algs.is_empty(),
        algs: algs.join(" "),
        resource_metadata: metadata.map(|m| m.url().to_string()),
    }
}
