//! Unit tests of the sender step, with two "workers" sharing one fake store.

use super::*;
use crate::sender::dpop::proof::tests::{public_jwk, sign};
use crate::shared::fake::Fake;
use crate::signature::rustcrypto::RustCrypto;

const NOW: u64 = 1_800_000_000;
const TOKEN: &str = "aaa.bbb.ccc";
const KEY: [u8; 32] = [0x31; 32];
const ALGS: [Algorithm; 1] = [Algorithm::ES256];

fn jkt(scalar: &[u8; 32]) -> String {
    let jwk = crate::json::parse_object(public_jwk(scalar).as_bytes()).unwrap();
    crate::sender::dpop::jwk::thumbprint(&jwk).unwrap()
}

fn proof(scalar: &[u8; 32], jti: &str, htu: &str) -> String {
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
        public_jwk(scalar)
    );
    let claims = format!(
        r#"{{"jti":"{jti}","htm":"GET","htu":"{htu}","iat":{NOW},"ath":"{}"}}"#,
        crate::sender::sha256_b64(TOKEN.as_bytes())
    );
    sign(scalar, &header, &claims)
}

struct World {
    settings: Settings,
    store: Fake,
    origin: Origin,
}

impl World {
    fn new(settings: Settings) -> World {
        World {
            settings,
            store: Fake::default(),
            origin: Origin::parse("http://127.0.0.1:10000").unwrap(),
        }
    }

    fn run(
        &self,
        mode: DpopMode,
        cnf: &Confirmation,
        scheme: Scheme,
        proofs: &[&str],
    ) -> Result<(), SenderError> {
        self.run_with(mode, cnf, scheme, proofs, None)
    }

    fn run_with(
        &self,
        mode: DpopMode,
        cnf: &Confirmation,
        scheme: Scheme,
        proofs: &[&str],
        peer: Option<&str>,
    ) -> Result<(), SenderError> {
        // A fresh runtime per call: as if each request ran on another worker.
        let rt = Runtime {
            settings: &self.settings,
            skew_s: 5,
            nonces: None,
            store: &self.store,
            secret: [4; 32],
            backend: &RustCrypto,
        };
        let p = Presentation {
            scheme,
            token: TOKEN,
            proofs,
            method: "GET",
            path: "/orders?page=1",
            origin: Some(&self.origin),
            peer_certificate: &peer,
        };
        check(&rt, mode, &ALGS, cnf, &p, NOW)
    }
}

fn bound(scalar: &[u8; 32]) -> Confirmation {
    Confirmation {
        jkt: Some(jkt(scalar)),
        x5t_s256: None,
    }
}

const URI: &str = "http://127.0.0.1:10000/orders";

#[test]
fn bound_tokens_need_a_matching_unused_proof() {
    let w = World::new(Settings::default());
    let cnf = bound(&KEY);
    let p = proof(&KEY, "j1", URI);
    assert_eq!(w.run(DpopMode::Allowed, &cnf, Scheme::Dpop, &[&p]), Ok(()));
    // The same proof again, on "another worker": replay.
    assert_eq!(
        w.run(DpopMode::Allowed, &cnf, Scheme::Dpop, &[&p]),
        Err(SenderError::Proof(ProofError::Replayed))
    );
    let other_key = proof(&[0x32; 32], "j2", URI);
    assert_eq!(
        w.run(DpopMode::Allowed, &cnf, Scheme::Dpop, &[&other_key]),
        Err(SenderError::Proof(ProofError::Binding))
    );
    assert_eq!(
        w.run(DpopMode::Required, &cnf, Scheme::Dpop, &[]),
        Err(SenderError::Proof(ProofError::Missing))
    );
    let p3 = proof(&KEY, "j3", URI);
    assert_eq!(
        w.run(DpopMode::Allowed, &cnf, Scheme::Bearer, &[&p3]),
        Err(SenderError::Scheme(SchemeError::BoundAsBearer))
    );
    assert_eq!(
        w.run(DpopMode::Off, &cnf, Scheme::Dpop, &[&p3]),
        Err(SenderError::Scheme(SchemeError::DpopOff))
    );
}

#[test]
fn unbound_tokens_follow_the_mode() {
    let w = World::new(Settings::default());
    let none = Confirmation::default();
    assert_eq!(w.run(DpopMode::Allowed, &none, Scheme::Bearer, &[]), Ok(()));
    // A stray proof next to an unbound bearer token is not what authorises the request.
    assert_eq!(
        w.run(DpopMode::Allowed, &none, Scheme::Bearer, &["junk"]),
        Ok(())
    );
    assert_eq!(
        w.run(DpopMode::Required, &none, Scheme::Bearer, &[]),
        Err(SenderError::Scheme(SchemeError::DpopRequired))
    );
    assert_eq!(
        w.run(
            DpopMode::Allowed,
            &none,
            Scheme::Dpop,
            &[&proof(&KEY, "j", URI)]
        ),
        Err(SenderError::Scheme(SchemeError::Unbound))
    );
}

#[test]
fn the_configured_origin_replaces_the_request_s() {
    let settings = Settings::from_raw(Some("https://api.example.com"), None, None, None).unwrap();
    let w = World::new(settings);
    let cnf = bound(&KEY);
    let behind_tls = proof(&KEY, "a", "https://api.example.com/orders");
    assert_eq!(
        w.run(DpopMode::Allowed, &cnf, Scheme::Dpop, &[&behind_tls]),
        Ok(())
    );
    let direct = proof(&KEY, "b", URI);
    assert_eq!(
        w.run(DpopMode::Allowed, &cnf, Scheme::Dpop, &[&direct]),
        Err(SenderError::Proof(ProofError::Uri))
    );
}

#[test]
fn certificate_binding_is_checked_first() {
    let w = World::new(Settings::default());
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let cnf = Confirmation {
        jkt: None,
        x5t_s256: Some("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU".into()),
    };
    assert_eq!(
        w.run_with(DpopMode::Allowed, &cnf, Scheme::Bearer, &[], Some(hex)),
        Ok(())
    );
    assert_eq!(
        w.run_with(DpopMode::Allowed, &cnf, Scheme::Bearer, &[], None),
        Err(SenderError::Certificate(BindingError::NoCertificate))
    );
    let e = w
        .run_with(
            DpopMode::Allowed,
            &cnf,
            Scheme::Bearer,
            &[],
            Some(&hex.replace('e', "f")),
        )
        .unwrap_err();
    assert_eq!(e, SenderError::Certificate(BindingError::OtherCertificate));
    assert_eq!(e.error_code(), "invalid_token");
    assert_eq!(e.to_string(), "token bound to another certificate");
}

#[test]
fn errors_map_to_codes_and_schemes() {
    let proof_err = SenderError::Proof(ProofError::Uri);
    assert_eq!(proof_err.error_code(), "invalid_dpop_proof");
    assert_eq!(proof_err.challenge_scheme(Scheme::Dpop), Scheme::Dpop);
    assert_eq!(
        SenderError::Proof(ProofError::Nonce).error_code(),
        "use_dpop_nonce"
    );
    let bearer = SenderError::Scheme(SchemeError::BoundAsBearer);
    assert_eq!(bearer.challenge_scheme(Scheme::Bearer), Scheme::Bearer);
    assert_eq!(bearer.reason(), "dpop_bound_as_bearer");
}

#[test]
fn every_error_kind_is_listed_once() {
    let mut names: Vec<&str> = SenderError::ALL.iter().map(|e| e.reason()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SenderError::ALL.len());
    let private = SenderError::Proof(ProofError::Key(crate::sender::dpop::jwk::JwkError::Private));
    assert!(SenderError::ALL.contains(&private.kind()));
    assert_eq!(private.kind().reason(), private.reason());
}

#[test]
fn a_waiting_request_keeps_what_it_presented() {
    let origin = Origin::parse("https://a.example").unwrap();
    let p = Presentation {
        scheme: Scheme::Dpop,
        token: TOKEN,
        proofs: &["p1"],
        method: "GET",
        path: "/x",
        origin: Some(&origin),
        peer_certificate: &Some("ab"),
    };
    let sent = Sent::of(&p);
    let proofs: Vec<&str> = sent.proofs.iter().map(String::as_str).collect();
    let again = sent.presentation(TOKEN, &proofs);
    assert_eq!(format!("{again:?}"), format!("{p:?}"));
}
