//! Macros for what every middleware and text type of the crate repeats.

/// `get_ref`, `get_mut` and `into_inner` of a service whose inner service
/// is the field `inner`, as tower-http's middleware have them.
macro_rules! define_inner_service_accessors {
    () => {
        /// The inner service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

/// `Display`, `Debug`, `AsRef<str>`, comparisons with `str` and the
/// conversions from `&str` and `String` of a newtype over
/// [`Text`](crate::text::Text) with an `as_str` method.
macro_rules! impl_text_newtype {
    ($name:ident) => {
        /// The text with its control characters escaped (`\n`, `\u{1b}`)
        /// and a backslash doubled, so that one from a hostile body cannot
        /// break a log line; `as_str` is the text as it came.
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&$crate::escape::EscapeControl(self.as_str()), f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self($crate::text::Text::from(text))
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self($crate::text::Text::from(text))
            }
        }
    };
}

/// An error made of a kind and a detail, and the kind's enum: the pair each
/// room's own error is (`SignError` and `SignErrorKind`, ...).
///
/// The struct gets the fields `kind` and `detail` before its own (which
/// start at their `Default`), `new(kind, detail)` and `kind()`; the enum is
/// `#[non_exhaustive]`, and its `Display` is the description beside each
/// variant. [`impl_kind_error_display`] gives the struct the message every
/// such error has unless it needs its own.
macro_rules! define_kind_error {
    (
        $(#[$meta:meta])*
        $vis:vis struct $error:ident { $( $(#[$field_meta:meta])* $field:ident: $field_type:ty ),* $(,)? }

        $(#[$kind_meta:meta])*
        $kind_vis:vis enum $kind:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $description:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis struct $error {
            kind: $kind,
            detail: Box<str>,
            $( $(#[$field_meta])* $field: $field_type, )*
        }

        impl $error {
            pub(crate) fn new(kind: $kind, detail: impl Into<Box<str>>) -> Self {
                Self {
                    kind,
                    detail: detail.into(),
                    $( $field: Default::default(), )*
                }
            }

            /// What kind of problem it is.
            pub fn kind(&self) -> $kind {
                self.kind
            }
        }

        $(#[$kind_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $kind_vis enum $kind {
            $( $(#[$variant_meta])* $variant, )+
        }

        /// What the problem is, in a few words: how the error's message starts.
        impl ::std::fmt::Display for $kind {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(match self {
                    $( Self::$variant => $description, )+
                })
            }
        }
    };
}

/// The message of an error from [`define_kind_error`]: the kind's
/// description, then `: ` and the detail (control characters escaped, as it
/// may quote input) when there is one, so that every such error reads the
/// same way.
macro_rules! impl_kind_error_display {
    ($error:ident) => {
        impl ::std::fmt::Display for $error {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.kind, f)?;
                if self.detail.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {}", $crate::escape::EscapeControl(&self.detail))
                }
            }
        }
    };
}
