//! Which requests are safe to send again after a transient failure.

use std::sync::Arc;

use http::Request;
use http::request::Parts;

use crate::action::header::action;
use crate::action::{Idempotent, is_read_only_action};

/// A caller's rule over the request head, replacing the action-name rule.
pub(crate) type IdempotencyRule = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

/// Whether a request may be sent again after a transient failure: it is
/// marked [`Idempotent`], or else `rule` says so, or, without a rule, its
/// action is read-only.
pub(crate) fn is_replay_safe<B>(request: &Request<B>, rule: Option<&IdempotencyRule>) -> bool {
    if request.extensions().get::<Idempotent>().is_some() {
        return true;
    }
    match rule {
        Some(rule) => rule(&head_of(request)),
        None => action(request.headers()).is_some_and(is_read_only_action),
    }
}

/// A copy of the request's head, for rules written against [`Parts`] so that
/// they work whatever the body type.
pub(crate) fn head_of<B>(request: &Request<B>) -> Parts {
    let (mut head, ()) = Request::new(()).into_parts();
    head.method = request.method().clone();
    head.uri = request.uri().clone();
    head.version = request.version();
    head.headers = request.headers().clone();
    head.extensions = request.extensions().clone();
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: &str) -> Request<()> {
        Request::builder()
            .header("X-TC-Action", action)
            .body(())
            .unwrap()
    }

    #[test]
    fn default_rule_reads_the_header_and_the_marker() {
        assert!(is_replay_safe(&request("DescribeZones"), None));
        assert!(!is_replay_safe(&request("TerminateInstances"), None));
        let mut marked = request("TerminateInstances");
        marked.extensions_mut().insert(Idempotent);
        assert!(is_replay_safe(&marked, None));
        assert!(!is_replay_safe(&Request::new(()), None));
    }

    #[test]
    fn a_custom_rule_replaces_the_action_rule_but_not_the_marker() {
        let with_client_token: IdempotencyRule =
            Arc::new(|head: &Parts| head.headers.contains_key("x-client-token"));
        let rule = Some(&with_client_token);
        assert!(!is_replay_safe(&request("DescribeZones"), rule));
        let mut tokened = request("RunInstances");
        tokened
            .headers_mut()
            .insert("x-client-token", "abc".parse().unwrap());
        assert!(is_replay_safe(&tokened, rule));
        let mut marked = request("RunInstances");
        marked.extensions_mut().insert(Idempotent);
        assert!(is_replay_safe(&marked, rule));
    }

    #[test]
    fn head_copies_everything_but_the_body() {
        let request = Request::builder()
            .method("POST")
            .uri("https://cvm.tencentcloudapi.com/")
            .header("X-TC-Action", "RunInstances")
            .extension(Idempotent)
            .body(vec![1u8, 2, 3])
            .unwrap();
        let head = head_of(&request);
        assert_eq!(head.method, "POST");
        assert_eq!(head.uri, "https://cvm.tencentcloudapi.com/");
        assert_eq!(action(&head.headers), Some("RunInstances"));
        assert_eq!(head.extensions.get::<Idempotent>(), Some(&Idempotent));
    }
}
