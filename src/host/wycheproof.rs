//! Test-only (cargo feature `wycheproof`, never in dist/): runs Project Wycheproof's
//! vectors through Envoy's `verify_signature` when the plugin is configured, and logs the
//! counts by family for `tests/integration/test_wycheproof_envoy.py`.

use super::proxy::Foreign;
use crate::signature::wycheproof::{run, VECTORS};

/// Runs the embedded vectors and logs one line per family, then a total.
pub fn report() {
    match run(VECTORS, &Foreign) {
        Ok(families) => {
            for family in &families {
                log::info!("wycheproof: {family}");
            }
            let run: u32 = families.iter().map(|f| f.run).sum();
            let mismatched: usize = families.iter().map(|f| f.mismatches.len()).sum();
            log::info!("wycheproof: done, {run} vectors, {mismatched} mismatched");
        }
        Err(e) => log::error!("wycheproof: {e}"),
    }
}
