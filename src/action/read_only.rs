//! What an action's name says about it.

/// Action names that only read: a prefix followed by the end of the name or
/// by the next word (`DescribeInstances`, not `Listener...`).
const READ_ONLY_PREFIXES: &[&str] = &["Describe", "Get", "List", "Query", "Inquiry", "Inquire"];

/// `true` when an action name reads without changing anything, judged by
/// its leading word: `Describe`, `Get`, `List`, `Query`, `Inquiry` or
/// `Inquire`.
///
/// This is the rule [`RetryPolicy`](crate::retry::RetryPolicy) applies to the
/// `X-TC-Action` header by default; a custom rule set with
/// [`RetryPolicy::idempotent_if`](crate::retry::RetryPolicy::idempotent_if) can
/// build on it.
///
/// ```
/// use tower_tencentcloud::action::is_read_only_action;
///
/// assert!(is_read_only_action("DescribeInstances"));
/// assert!(is_read_only_action("InquiryPriceRunInstances"));
/// assert!(!is_read_only_action("RunInstances"));
/// // A word that merely starts like a read-only one is not.
/// assert!(!is_read_only_action("ListenerRewrite"));
/// assert!(!is_read_only_action("describeInstances"));
/// ```
pub fn is_read_only_action(action: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|prefix| {
        action.strip_prefix(prefix).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|next| next.is_ascii_uppercase() || next.is_ascii_digit())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_prefixes_need_a_word_boundary() {
        for action in [
            "Describe",
            "DescribeInstances",
            "GetObject",
            "ListUsers",
            "QueryAccountBalance",
            "InquiryPriceRunInstances",
            "InquirePriceModifyDBInstanceSpec",
            "DescribeV2Tasks",
            "Get2FAStatus",
        ] {
            assert!(is_read_only_action(action), "{action}");
        }
        for action in [
            "",
            "RunInstances",
            "Describes",
            "Getaway",
            "ListenerCreate",
            "Querying",
            "Inquire-Price",
            "ModifyDescribeSettings",
            "describeInstances",
            "DESCRIBEInstances",
        ] {
            assert!(!is_read_only_action(action), "{action}");
        }
    }
}
