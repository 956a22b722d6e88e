//! Error codes, their categories, and which class of retry each code is in.

use std::sync::Arc;

use crate::retry_class::RetryClass;
use crate::text::Text;

/// The `Response.Error.Code` of a failed call: `Category` or `Category.SubCode`.
///
/// ```
/// use tower_tencentcloud::{Category, Code, RetryClass};
///
/// let code = Code::new("LimitExceeded.CvmQuota");
/// assert_eq!(code, "LimitExceeded.CvmQuota");
/// assert_eq!(code.category(), Category::LimitExceeded);
/// assert_eq!(code.subcode(), Some("CvmQuota"));
/// // A quota does not rise by waiting: never retried.
/// assert_eq!(code.retry_class(), RetryClass::Never);
/// assert_eq!(Code::new("RequestLimitExceeded").retry_class(), RetryClass::Throttled);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(Text);

impl Code {
    /// Wraps a code as the API sent it.
    pub fn new(code: impl Into<Arc<str>>) -> Self {
        Self(Text::from(code.into()))
    }

    /// A code read out of a response body. The well-known ones (a bare
    /// category such as `InternalError`, and the curated rate limits) need
    /// no allocation: under throttling, nearly every response is one.
    pub(crate) fn read(code: &str) -> Self {
        let category = Category::from_prefix(code).prefix();
        let known = category.filter(|name| *name == code).or_else(|| {
            let at = RATE_LIMIT_CODES.binary_search(&code).ok()?;
            Some(RATE_LIMIT_CODES[at])
        });
        Self(known.map_or_else(|| Text::from(code), Text::from_static))
    }

    /// The code as the API sent it.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The part before the first `.`: the whole code when it has none.
    pub fn prefix(&self) -> &str {
        prefix_of(self.as_str())
    }

    /// The part after the first `.`, if any.
    pub fn subcode(&self) -> Option<&str> {
        self.as_str().split_once('.').map(|(_, rest)| rest)
    }

    /// The common category this code belongs to, from its prefix.
    pub fn category(&self) -> Category {
        Category::from_prefix(self.prefix())
    }

    /// Whether waiting and sending the request again can succeed.
    ///
    /// See [`RetryClass`] for the rules and the curated table behind them.
    pub fn retry_class(&self) -> RetryClass {
        let code = self.as_str();
        match Category::from_prefix(prefix_of(code)) {
            Category::RequestLimitExceeded => RetryClass::Throttled,
            Category::InternalError | Category::ServiceUnavailable => RetryClass::Transient,
            Category::AuthFailure if code == "AuthFailure.SignatureExpire" => RetryClass::ClockSkew,
            _ if RATE_LIMIT_CODES.binary_search(&code).is_ok() => RetryClass::Throttled,
            _ => RetryClass::Never,
        }
    }
}

/// The part of `code` before the first `.`.
fn prefix_of(code: &str) -> &str {
    code.split_once('.').map_or(code, |(prefix, _)| prefix)
}

impl_text_newtype!(Code);

macro_rules! categories {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// The prefix of an error [`Code`]: the 28 documented common prefixes,
        /// the prefixes widely used beyond them, and `Other`.
        ///
        /// ```
        /// use tower_tencentcloud::{Category, Code};
        ///
        /// assert_eq!(Code::new("AuthFailure.SignatureExpire").category(), Category::AuthFailure);
        /// assert_eq!(Code::new("CdbError.Timeout").category(), Category::Other);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Category {
            $( $(#[$doc])* $name, )*
            /// A prefix outside the documented and widely used ones.
            Other,
        }

        impl Category {
            /// The category named by `prefix` (exact, case-sensitive), or `Other`.
            pub fn from_prefix(prefix: &str) -> Self {
                match prefix {
                    $( stringify!($name) => Self::$name, )*
                    _ => Self::Other,
                }
            }

            /// The prefix this category stands for; `None` for `Other`.
            pub fn prefix(self) -> Option<&'static str> {
                match self {
                    $( Self::$name => Some(stringify!($name)), )*
                    Self::Other => None,
                }
            }
        }
    };
}

categories! {
    /// The action is offline.
    ActionOffline,
    /// Authentication failed: signature, key, token, MFA or CAM authorization.
    AuthFailure,
    /// `DryRun` was set and the request would have succeeded.
    DryRunOperation,
    /// The operation failed.
    FailedOperation,
    /// The service failed internally.
    InternalError,
    /// The action does not exist.
    InvalidAction,
    /// A parameter is wrong.
    InvalidParameter,
    /// A parameter's value is wrong.
    InvalidParameterValue,
    /// The request is malformed.
    InvalidRequest,
    /// The caller's IP is in a blacklist.
    IpInBlacklist,
    /// The caller's IP is not in the whitelist.
    IpNotInWhitelist,
    /// A quota is exceeded (not a rate limit; see [`RetryClass`]).
    LimitExceeded,
    /// A parameter is missing.
    MissingParameter,
    /// The product does not exist.
    NoSuchProduct,
    /// The API version does not exist.
    NoSuchVersion,
    /// The request rate limit is exceeded.
    RequestLimitExceeded,
    /// The request body is too large.
    RequestSizeLimitExceeded,
    /// The resource is in use.
    ResourceInUse,
    /// The resource is insufficient.
    ResourceInsufficient,
    /// The resource does not exist.
    ResourceNotFound,
    /// The resource is unavailable.
    ResourceUnavailable,
    /// The response would be too large.
    ResponseSizeLimitExceeded,
    /// The service is unavailable.
    ServiceUnavailable,
    /// The caller is not authorized.
    UnauthorizedOperation,
    /// A parameter is not known.
    UnknownParameter,
    /// The operation is not supported.
    UnsupportedOperation,
    /// The protocol or HTTP method is not supported.
    UnsupportedProtocol,
    /// The action is not available in the region.
    UnsupportedRegion,
    /// The operation is denied.
    OperationDenied,
    /// The resources are sold out.
    ResourcesSoldOut,
    /// A filter is invalid.
    InvalidFilter,
    /// The region is wrong.
    RegionError,
}

/// Rate limits filed under prefixes other than `RequestLimitExceeded`, chosen
/// by reading `shared/data/error-codes.tsv`. Sorted, for binary search.
pub(crate) const RATE_LIMIT_CODES: &[&str] = &[
    "FailedOperation.CallerOverFrequency",
    "FailedOperation.CreateOperationTooFrequently",
    "FailedOperation.DataFlowTooManyRequests",
    "FailedOperation.FreqCtrl",
    "FailedOperation.FrequencyLimit",
    "FailedOperation.FrequencyLimited",
    "FailedOperation.OperateFrequencyLimitedError",
    "FailedOperation.RateLimitExceeded",
    "FailedOperation.ReadQpsLimit",
    "FailedOperation.ReleaseOperationTooFrequently",
    "FailedOperation.RequestLimitExceeded",
    "FailedOperation.RestrictedFrequency",
    "FailedOperation.TagQpsLimit",
    "FailedOperation.TooFrequent",
    "FailedOperation.TooFrequently",
    "FailedOperation.WriteQpsLimit",
    "InvalidParameter.OperationIsTooFrequent",
    "LimitExceeded.FreqCnt",
    "LimitExceeded.FreqLimitForbiddenAccessError",
    "LimitExceeded.IpFreqCnt",
    "LimitExceeded.KeyFreqCnt",
    "LimitExceeded.RateLimitExceeded",
    "LimitExceeded.RequestLimit",
    "LimitExceeded.RequestLimitExceeded",
    "LimitExceeded.TooFrequentlyCalled",
    "LimitExceeded.TooManyRequests",
    "OperationDenied.FreqOverLimit",
    "UnsupportedOperation.FrequencyLimit",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_from_a_body_equal_codes_made_by_hand() {
        for code in [
            "InternalError",
            "RequestLimitExceeded",
            "LimitExceeded.RequestLimit",
            "AuthFailure.SignatureExpire",
            "Other",
            "",
        ] {
            assert_eq!(Code::read(code), Code::new(code));
            assert_eq!(
                Code::read(code).retry_class(),
                Code::new(code).retry_class()
            );
        }
    }

    #[test]
    fn rate_limit_table_is_sorted_and_unique() {
        assert!(RATE_LIMIT_CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_curated_rate_limit_is_a_declared_code() {
        let declared = include_str!("../tests/data/error-codes.tsv");
        for code in RATE_LIMIT_CODES {
            assert!(
                declared
                    .lines()
                    .any(|line| line.ends_with(&format!("\t{code}"))),
                "{code} is not declared by any service"
            );
        }
    }

    #[test]
    fn odd_codes_classify_without_panic() {
        for odd in [
            "",
            ".",
            "InternalError.",
            "MissingParameter.",
            "A.B.C",
            "..x",
            "é.ü",
        ] {
            let code = Code::new(odd);
            let _ = (code.category(), code.retry_class(), code.subcode());
        }
        assert_eq!(
            Code::new("InternalError.").category(),
            Category::InternalError
        );
        assert_eq!(
            Code::new("InternalError.").retry_class(),
            RetryClass::Transient
        );
        assert_eq!(
            Code::new("FailedOperation.DeleteTrigger.UrlUsed").subcode(),
            Some("DeleteTrigger.UrlUsed")
        );
    }

    #[test]
    fn category_prefix_round_trips() {
        for prefix in [
            "AuthFailure",
            "RequestLimitExceeded",
            "RegionError",
            "UnsupportedRegion",
        ] {
            assert_eq!(Category::from_prefix(prefix).prefix(), Some(prefix));
        }
        assert_eq!(Category::from_prefix("authfailure"), Category::Other);
        assert_eq!(Category::Other.prefix(), None);
    }
}
