//! Where a verifier finds the credentials of a SecretId.

use std::collections::HashMap;
use std::fmt;

use crate::sign::Credentials;

/// The credentials of a SecretId, for a [`Verifier`](super::Verifier).
///
/// Implemented for one [`Credentials`], a `Vec` or slice of them, a
/// `HashMap` keyed by SecretId, and any function through [`from_fn`].
pub trait CredentialsLookup {
    /// The credentials whose secret id is `secret_id`, if any.
    fn lookup(&self, secret_id: &str) -> Option<Credentials>;
}

impl CredentialsLookup for Credentials {
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        (self.secret_id() == secret_id).then(|| self.clone())
    }
}

impl CredentialsLookup for [Credentials] {
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        self.iter()
            .find(|credentials| credentials.secret_id() == secret_id)
            .cloned()
    }
}

impl CredentialsLookup for Vec<Credentials> {
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        self.as_slice().lookup(secret_id)
    }
}

impl<S: std::hash::BuildHasher> CredentialsLookup for HashMap<String, Credentials, S> {
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        self.get(secret_id).cloned()
    }
}

impl<T: CredentialsLookup + ?Sized> CredentialsLookup for &T {
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        (**self).lookup(secret_id)
    }
}

/// A lookup that calls `f`, for credentials kept elsewhere.
///
/// ```
/// use tower_tencentcloud::sign::Credentials;
/// use tower_tencentcloud::sign::verify::{Verifier, from_fn};
///
/// let verifier = Verifier::new(from_fn(|secret_id: &str| {
///     secret_id
///         .starts_with("AKIDtest")
///         .then(|| Credentials::new(secret_id, "shared-test-key"))
/// }));
/// # drop(verifier);
/// ```
pub fn from_fn<F>(f: F) -> FromFn<F>
where
    F: Fn(&str) -> Option<Credentials>,
{
    FromFn(f)
}

/// The lookup of [`from_fn`].
#[derive(Clone)]
pub struct FromFn<F>(F);

impl<F> CredentialsLookup for FromFn<F>
where
    F: Fn(&str) -> Option<Credentials>,
{
    fn lookup(&self, secret_id: &str) -> Option<Credentials> {
        (self.0)(secret_id)
    }
}

impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}
