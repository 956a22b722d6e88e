//! [`Account`]: whose budget a key belongs to, named without its secret.

use std::fmt;

use sha2::{Digest, Sha256};

/// The account a shared budget belongs to: the first 16 bytes of the
/// SHA-256 of its SecretId, in hex.
///
/// The API limits an account; the keys of one account's budget carry this
/// name. It is a hash so that the store, its logs and its key listings name
/// no credential: not the SecretKey, which never leaves the signer, and not
/// the SecretId either. Processes that share a SecretId get the same name.
///
/// ```
/// use tower_tencentcloud::ratelimit::shared::Account;
///
/// let account = Account::from_secret_id("AKIDEXAMPLE");
/// assert_eq!(account.as_str().len(), 32);
/// assert!(!account.as_str().contains("AKID"));
/// assert_eq!(account, Account::from_secret_id("AKIDEXAMPLE"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Account {
    name: String,
}

impl Account {
    /// The account of the credentials whose SecretId is `secret_id`.
    pub fn from_secret_id(secret_id: &str) -> Self {
        let digest = Sha256::digest(secret_id.as_bytes());
        Self {
            name: hex::encode(&digest[..16]),
        }
    }

    /// The hash, 32 hex digits.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Account").field(&self.name).finish()
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
