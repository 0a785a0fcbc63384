//! A closed word list: each enum below maps to one stable English code used in the
//! interchange format, the API and the database, and to its Chinese label for the pages.

/// A word list as data: its name (as the API description names it, `x-vocabulary`), and its
/// codes and labels in the vocabulary's order. `WORDS` of each `vocabulary!` enum.
#[derive(Debug, PartialEq, Eq)]
pub struct Words {
    pub name: &'static str,
    pub codes: &'static [&'static str],
    pub labels: &'static [&'static str],
}

impl Words {
    /// The label of `code`, when it is one of the list's.
    pub fn label_of(&self, code: &str) -> Option<&'static str> {
        let position = self.codes.iter().position(|known| *known == code)?;
        self.labels.get(position).copied()
    }
}

/// Declares an enum with its codes and Chinese labels, `code()`, `label()`, `from_code()`, `ALL`
/// and `WORDS` (the list as data).
#[macro_export]
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal / $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word list as data (`Words`): name, codes and labels in order.
            pub const WORDS: $crate::vocabulary::Words = $crate::vocabulary::Words {
                name: stringify!($name),
                codes: &[$($code,)+],
                labels: &[$($label,)+],
            };

            /// The stable English code (interchange format, API, database).
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Simplified-Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
