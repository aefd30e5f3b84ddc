//! URI templates in Envoy's syntax (`uri_template` path matching): `*` or `{name}` is one
//! non-empty segment, `**` or `{name=**}` the rest of the path (possibly empty), anything
//! else literal text; a template is matched against the whole path. A variable may hold a
//! sub-pattern over several segments (`{file=videos/*}`); its name only has to be unique.

use thiserror::Error;

/// Most variables in one template (Envoy's limit).
pub const MAX_VARIABLES: usize = 5;
/// Longest variable name (Envoy's limit).
pub const MAX_VARIABLE_NAME: usize = 16;
/// Longest template accepted.
pub const MAX_TEMPLATE: usize = 1024;

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("must start with '/'")]
    NoLeadingSlash,
    #[error("longer than {MAX_TEMPLATE} bytes")]
    TooLong,
    #[error("unbalanced braces")]
    UnbalancedBraces,
    #[error("`**` must come last")]
    RestNotLast,
    #[error("empty variable match in {{{0}=}}")]
    EmptyMatch(String),
    #[error("invalid variable name {0:?} (a letter, then letters, digits or '_', at most 16)")]
    VariableName(String),
    #[error("repeated variable name {0:?}")]
    RepeatedVariable(String),
    #[error("more than {MAX_VARIABLES} variables")]
    TooManyVariables,
    #[error("character {0:?} is not allowed in a template")]
    Character(char),
    #[error("empty segment ('//')")]
    EmptySegment,
}

/// One element of a segment pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unit {
    /// This byte (ASCII case ignored when folding).
    Byte(u8),
    /// Any one byte.
    One,
    /// Any run of bytes, possibly empty.
    Many,
}

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    /// One pattern per `/`-separated segment after the leading `/`.
    segments: Vec<Vec<Unit>>,
    /// The last segment ends in `**`: it takes every byte after it, `/` included.
    rest: bool,
}

/// A lexical token of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Byte(u8),
    Star,
    Rest,
}

/// RFC 3986 `pchar` minus `*` (Envoy's literal set), plus `/`.
fn literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()+,;:@=/".contains(&b)
}

fn variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_VARIABLE_NAME
}

/// The tokens of `text` (a template, or a variable's sub-pattern): literal bytes, `*`, `**`.
fn lex(text: &str, out: &mut Vec<Token>) -> Result<(), TemplateError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'*' {
            if bytes.get(i + 1) == Some(&b'*') {
                out.push(Token::Rest);
                i += 2;
            } else {
                out.push(Token::Star);
                i += 1;
            }
        } else if b == b'{' || b == b'}' {
            return Err(TemplateError::UnbalancedBraces);
        } else if literal(b) {
            out.push(Token::Byte(b));
            i += 1;
        } else {
            return Err(TemplateError::Character(char::from(b)));
        }
    }
    Ok(())
}

impl UriTemplate {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<UriTemplate, TemplateError> {
        if text.len() > MAX_TEMPLATE {
            return Err(TemplateError::TooLong);
        }
        if !text.starts_with('/') {
            return Err(TemplateError::NoLeadingSlash);
        }
        if let Some(c) = text.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(TemplateError::Character(c));
        }
        let mut tokens = Vec::with_capacity(text.len());
        let mut names: Vec<&str> = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let open = rest.find('{').unwrap_or(rest.len());
            let (plain, tail) = rest.split_at(open);
            lex(plain, &mut tokens)?;
            let Some(tail) = tail.strip_prefix('{') else {
                break;
            };
            let close = tail.find('}').ok_or(TemplateError::UnbalancedBraces)?;
            let (inner, after) = tail.split_at(close);
            rest = after.get(1..).unwrap_or("");
            let (name, pattern) = match inner.split_once('=') {
                Some((name, "")) => return Err(TemplateError::EmptyMatch(name.to_string())),
                Some((name, pattern)) => (name, pattern),
                None => (inner, "*"),
            };
            if !variable_name(name) {
                return Err(TemplateError::VariableName(name.to_string()));
            }
            if names.contains(&name) {
                return Err(TemplateError::RepeatedVariable(name.to_string()));
            }
            names.push(name);
            if names.len() > MAX_VARIABLES {
                return Err(TemplateError::TooManyVariables);
            }
            lex(pattern, &mut tokens)?;
        }
        Self::build(text, &tokens)
    }

    /// Cuts the tokens after the leading `/` into segment patterns.
    fn build(text: &str, tokens: &[Token]) -> Result<UriTemplate, TemplateError> {
        let mut body = tokens.get(1..).unwrap_or_default();
        let rest = body.last() == Some(&Token::Rest);
        if rest {
            body = body.split_last().map_or(body, |(_, before)| before);
        }
        if body.contains(&Token::Rest) {
            return Err(TemplateError::RestNotLast);
        }
        let mut segments: Vec<Vec<Unit>> = vec![Vec::new()];
        for token in body {
            let Some(current) = segments.last_mut() else {
                break;
            };
            match token {
                Token::Byte(b'/') if current.is_empty() => return Err(TemplateError::EmptySegment),
                Token::Byte(b'/') => segments.push(Vec::new()),
                Token::Byte(b) => current.push(Unit::Byte(*b)),
                Token::Star | Token::Rest => current.extend([Unit::One, Unit::Many]),
            }
        }
        if rest {
            if let Some(last) = segments.last_mut() {
                last.push(Unit::Many);
            }
        }
        Ok(UriTemplate {
            text: text.to_string(),
            segments,
            rest,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` (no query) matches the whole template; `fold` ignores ASCII case in
    /// the literal text.
    pub fn matches(&self, path: &[u8], fold: bool) -> bool {
        let Some(body) = path.strip_prefix(b"/") else {
            return false;
        };
        let mut parts = body.split(|b| *b == b'/');
        let count = self.segments.len();
        for (i, pattern) in self.segments.iter().enumerate() {
            let Some(part) = parts.next() else {
                return false;
            };
            if !glob(pattern, part, fold) {
                return false;
            }
            if self.rest && i + 1 == count {
                return true;
            }
        }
        parts.next().is_none()
    }
}

/// Whether `text` (one segment) matches `units` whole.
fn glob(units: &[Unit], text: &[u8], fold: bool) -> bool {
    let same = |a: u8, b: u8| a == b || (fold && a.eq_ignore_ascii_case(&b));
    let (mut u, mut t) = (0, 0);
    // Where the last `Many` was, and how much text it has taken so far.
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match units.get(u) {
            Some(Unit::Many) => {
                backtrack = Some((u, t));
                u += 1;
                continue;
            }
            Some(Unit::One) => {
                u += 1;
                t += 1;
                continue;
            }
            Some(Unit::Byte(b)) if same(*b, c) => {
                u += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((mu, mt)) => {
                backtrack = Some((mu, mt + 1));
                u = mu + 1;
                t = mt + 1;
            }
            None => return false,
        }
    }
    units
        .get(u..)
        .unwrap_or_default()
        .iter()
        .all(|x| *x == Unit::Many)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> UriTemplate {
        UriTemplate::parse(text).unwrap()
    }

    fn m(template: &str, path: &str) -> bool {
        t(template).matches(path.as_bytes(), false)
    }

    #[test]
    fn variables_and_stars_are_one_nonempty_segment() {
        for template in ["/users/{id}/admin", "/users/*/admin", "/users/{id=*}/admin"] {
            assert!(m(template, "/users/42/admin"), "{template}");
            assert!(m(template, "/users/42%2Fx/admin"), "{template}");
            assert!(!m(template, "/users//admin"), "{template}");
            assert!(!m(template, "/users/42/x/admin"), "{template}");
            assert!(!m(template, "/users/42/admin/"), "{template}");
            assert!(!m(template, "/users/42/adminx"), "{template}");
            assert!(!m(template, "/users/admin"), "{template}");
        }
    }

    #[test]
    fn rest_takes_the_remainder_after_its_slash() {
        let tpl = "/users/{id}/orders/**";
        assert!(m(tpl, "/users/1/orders/"));
        assert!(m(tpl, "/users/1/orders/a/b/c"));
        assert!(
            !m(tpl, "/users/1/orders"),
            "Envoy's `**` follows a literal '/'"
        );
        assert!(!m(tpl, "/users/1/ordersx/a"));
        assert!(m("/{all=**}", "/"));
        assert!(m("/**", "/a/b"));
        assert!(m("/files/{path=**}", "/files/a/b.txt"));
        assert!(m("/v**", "/v1/x"));
        assert!(m("/v**", "/v"));
        assert!(!m("/v**", "/w1"));
    }

    #[test]
    fn segments_mix_literal_and_variable_text() {
        assert!(m("/videos/{file}.mp4", "/videos/cat.mp4"));
        assert!(!m("/videos/{file}.mp4", "/videos/.mp4"));
        assert!(!m("/videos/{file}.mp4", "/videos/cat.mp3"));
        assert!(m("/{a}-{b}", "/x-y-z"));
        assert!(m("/api/{v=v1/*}/items", "/api/v1/x/items"));
        assert!(!m("/api/{v=v1/*}/items", "/api/v2/x/items"));
    }

    #[test]
    fn the_whole_path_matches_or_nothing() {
        assert!(m("/", "/"));
        assert!(!m("/", "/a"));
        assert!(m("/a/", "/a/"));
        assert!(!m("/a/", "/a"));
        assert!(!m("/a", "a"));
        assert!(!m("/a", ""));
        assert!(!m("/a", "*"));
    }

    #[test]
    fn folding_ignores_literal_case_only() {
        let tpl = t("/Users/{id}/Admin");
        assert!(!tpl.matches(b"/users/X/admin", false));
        assert!(tpl.matches(b"/users/X/admin", true));
        assert!(tpl.matches(b"/USERS/x/ADMIN", true));
    }

    #[test]
    fn malformed_templates_say_why() {
        use TemplateError as E;
        for (text, want) in [
            ("users/{id}", E::NoLeadingSlash),
            ("/users/{id", E::UnbalancedBraces),
            ("/users/id}", E::UnbalancedBraces),
            ("/users/{a{b}}", E::VariableName("a{b".into())),
            ("/a/**/b", E::RestNotLast),
            ("/a/{x=**}/b", E::RestNotLast),
            ("/a/***", E::RestNotLast),
            ("/{id}/{id}", E::RepeatedVariable("id".into())),
            ("/{1d}", E::VariableName("1d".into())),
            ("/{}", E::VariableName(String::new())),
            ("/{x=}", E::EmptyMatch("x".into())),
            ("/{a}/{b}/{c}/{d}/{e}/{f}", E::TooManyVariables),
            ("/a b", E::Character(' ')),
            ("/a?b", E::Character('?')),
            ("/a#b", E::Character('#')),
            ("/a//b", E::EmptySegment),
        ] {
            assert_eq!(UriTemplate::parse(text), Err(want), "{text}");
        }
        assert_eq!(
            UriTemplate::parse(&format!("/{}", "a".repeat(MAX_TEMPLATE))),
            Err(E::TooLong)
        );
        assert!(UriTemplate::parse("/{abcdefghijklmnop}").is_ok());
        assert!(UriTemplate::parse("/{abcdefghijklmnopq}").is_err());
    }

    #[test]
    fn glob_backtracks_without_blowing_up() {
        let tpl = t("/{a}a{b}a{c}a{d}a{e}b");
        let long = format!("/{}", "a".repeat(4000));
        assert!(!tpl.matches(long.as_bytes(), false));
        assert!(tpl.matches(format!("{long}b").as_bytes(), false));
    }
}
