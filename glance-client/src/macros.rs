//! Helpers for model types.

/// A string enum of the API: known values as variants, anything else kept
/// in `Other` so that a newer server never breaks decoding.
///
/// Reading a server's answer accepts any value; parsing text a person
/// typed (`FromStr`, `TryFrom<&str>`) accepts only the known names, so a
/// typo is an error rather than a new value. `Other` is there for a value
/// this client does not name, set deliberately.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        ///
        /// A server's value this client does not know decodes as `Other`,
        /// so a newer server never breaks decoding. Parsing text
        /// (`"qcow2".parse()`) accepts only the names listed here and
        /// fails with a [`ParseEnumError`](crate::ParseEnumError)
        /// otherwise; write `Other(..)` to send another value on purpose.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not name: sent by a server, or
            /// chosen deliberately.
            Other(String),
        }

        impl $name {
            /// The names this client knows, as sent on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire,)*];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(s) => s,
                }
            }

            /// Any wire value: a known name, else `Other` (what decoding
            /// a server's answer does).
            pub(crate) fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match $name::from_wire(s) {
                    $name::Other(_) => Err(crate::ParseEnumError::new(
                        stringify!($name),
                        s,
                        Self::KNOWN,
                    )),
                    known => Ok(known),
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = crate::ParseEnumError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Ok($name::from_wire(s.as_str()))
            }
        }
    };
}

pub(crate) use string_enum;
