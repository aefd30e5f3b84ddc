//! Command-line flags for the dev tools: `--name value` or `--name=value`, every flag
//! takes a value and may be repeated; `-h` / `--help` asks for the usage text.

/// Parsed flags, in the order given.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    pub help: bool,
    values: Vec<(String, String)>,
}

impl Flags {
    /// Parses `args` (without the program name), accepting only the flags in `known`
    /// (written without the leading `--`).
    pub fn parse<I>(args: I, known: &[&str]) -> Result<Flags, String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut flags = Flags::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                flags.help = true;
                continue;
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?} (see --help)"));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("--{flag} needs a value"))?;
                    (flag.to_string(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name} (see --help)"));
            }
            flags.values.push((name, value));
        }
        Ok(flags)
    }

    /// The last value given for `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Splits a list given as one flag value on commas and whitespace.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_both_forms_and_repeats() {
        let flags = Flags::parse(
            args(&["--listen", "127.0.0.1:1", "--audience=a", "--audience", "b"]),
            &["listen", "audience"],
        )
        .unwrap();
        assert!(!flags.help);
        assert_eq!(flags.last("listen"), Some("127.0.0.1:1"));
        assert_eq!(flags.all("audience"), ["a", "b"]);
        assert_eq!(flags.last("audience"), Some("b"));
        assert_eq!(flags.last("missing"), None);
    }

    #[test]
    fn rejects_unknown_and_valueless_flags() {
        assert!(Flags::parse(args(&["--nope", "x"]), &["listen"]).is_err());
        assert!(Flags::parse(args(&["--listen"]), &["listen"]).is_err());
        assert!(Flags::parse(args(&["stray"]), &["listen"]).is_err());
        assert!(Flags::parse(args(&["-h"]), &[]).unwrap().help);
    }

    #[test]
    fn splits_lists() {
        assert_eq!(
            split_list("read:data, write:admin  x"),
            ["read:data", "write:admin", "x"]
        );
        assert!(split_list(" , ").is_empty());
    }
}
