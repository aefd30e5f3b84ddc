//! Configuration values chosen from a fixed set of strings. [`choice!`] declares such an
//! enum with its serde `Deserialize`: any other value is refused with
//! `"<value>" is not one of a, b, c`, at the field's path.

/// Declares an enum read from exactly one of the given strings.
macro_rules! choice {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_attr:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $($(#[$variant_attr])* $variant,)+
        }

        impl $name {
            /// Every accepted value, as written in the configuration.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                match text.as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(serde::de::Error::custom(format!(
                        "{other:?} is not one of {}",
                        Self::NAMES.join(", ")
                    ))),
                }
            }
        }

        #[cfg(test)]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": $name::NAMES })
            }
        }
    };
}

pub(crate) use choice;
