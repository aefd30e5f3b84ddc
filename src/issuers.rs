//! A provider's issuers: `issuer`, or `issuers` when one key set signs for several (Auth0
//! with a custom domain sets `iss` to whichever domain the client used). Exactly one of the
//! two is given, and no issuer belongs to two providers.

use crate::config::error::{invalid, ConfigError};
/// Most entries in `issuers`.
pub const MAX_ISSUERS: usize = 16;
/// Longest issuer.
const MAX_ISSUER_LEN: usize = 512;

/// Validates `issuer` / `issuers` of the provider named by `at`; returns the issuers in order.
pub fn from_raw(
    issuer: Option<String>,
    issuers: Option<Vec<String>>,
    at: &str,
) -> Result<Vec<String>, ConfigError> {
    let (list, field) = match (issuer, issuers) {
        (Some(one), None) => (vec![one], "issuer"),
        (None, Some(many)) if (1..=MAX_ISSUERS).contains(&many.len()) => (many, "issuers"),
        (None, Some(_)) => {
            return invalid(
                format!("{at}.issuers"),
                format!("give 1-{MAX_ISSUERS} issuers"),
            )
        }
        (Some(_), Some(_)) => {
            return invalid(
                format!("{at}.issuers"),
                "give either issuer or issuers, not both",
            )
        }
        (None, None) => return invalid(format!("{at}.issuer"), "required (or issuers)"),
    };
    for (i, iss) in list.iter().enumerate() {
        if iss.is_empty() || iss.len() > MAX_ISSUER_LEN {
            return invalid(
                format!("{at}.{field}"),
                format!("must be 1-{MAX_ISSUER_LEN} characters"),
            );
        }
        if list.get(..i).is_some_and(|before| before.contains(iss)) {
            return invalid(format!("{at}.{field}"), format!("{iss:?} is listed twice"));
        }
    }
    Ok(list)
}

/// The first issuer of `candidate` already claimed by one of `earlier` (providers in
/// configuration order): two providers must not trust the same issuer.
pub fn first_conflict<'a>(
    earlier: impl IntoIterator<Item = &'a [String]>,
    candidate: &'a [String],
) -> Option<&'a str> {
    let earlier: Vec<&[String]> = earlier.into_iter().collect();
    candidate
        .iter()
        .find(|iss| earlier.iter().any(|e| e.contains(iss)))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_issuer_or_several() {
        assert_eq!(
            from_raw(Some("https://t/".into()), None, "p"),
            Ok(strings(&["https://t/"]))
        );
        let both = strings(&["https://login.example.com/", "https://t.eu.auth0.com/"]);
        assert_eq!(from_raw(None, Some(both.clone()), "p"), Ok(both));
    }

    #[test]
    fn errors_name_the_field() {
        let at = "providers[p]";
        let cases = [
            (None, None, "providers[p].issuer: required"),
            (
                Some("a"),
                Some(vec!["b"]),
                "providers[p].issuers: give either",
            ),
            (None, Some(vec![]), "providers[p].issuers: give 1-16"),
            (Some(""), None, "providers[p].issuer: must be"),
            (None, Some(vec!["a", ""]), "providers[p].issuers: must be"),
            (
                None,
                Some(vec!["a", "a"]),
                "providers[p].issuers: \"a\" is listed twice",
            ),
        ];
        for (one, many, expected) in cases {
            let e = from_raw(one.map(String::from), many.map(|m| strings(&m)), at).unwrap_err();
            assert!(e.to_string().contains(expected), "{e}");
        }
        let too_many = (0..=MAX_ISSUERS).map(|i| format!("https://{i}/")).collect();
        assert!(from_raw(None, Some(too_many), at).is_err());
    }

    #[test]
    fn no_issuer_belongs_to_two_providers() {
        let first = strings(&["https://a/", "https://b/"]);
        let second = strings(&["https://c/"]);
        let third = strings(&["https://d/", "https://b/"]);
        let earlier = [first.as_slice(), second.as_slice()];
        assert_eq!(first_conflict(earlier, &third), Some("https://b/"));
        assert_eq!(first_conflict(earlier, &strings(&["https://e/"])), None);
        assert_eq!(first_conflict([], &third), None);
    }
}
