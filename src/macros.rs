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
