//! The query string of a GET action: its parameters flattened and
//! form-encoded, as the official SDKs send them.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// What Python's `urlencode` (the official SDK's) leaves as it is: letters,
/// digits, `-._~`, and the space, which becomes `+`.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b' ');

/// `{"Filters":[{"Name":"zone","Values":["a b"]}],"Limit":20}` as
/// `Filters.0.Name=zone&Filters.0.Values.0=a+b&Limit=20`: object keys in
/// sorted order, list items by index, booleans `true`/`false`, nulls left
/// out (as the Node.js SDK leaves them out).
pub(crate) fn encode(params: &Value) -> String {
    let mut pairs = Vec::new();
    flatten(String::new(), params, &mut pairs);
    let mut query = String::new();
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        let _ = write!(query, "{}={}", escape(&name), escape(&value));
    }
    query
}

fn flatten(prefix: String, value: &Value, pairs: &mut Vec<(String, String)>) {
    let key = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match value {
        Value::Null => {}
        Value::Bool(value) => pairs.push((prefix, value.to_string())),
        Value::Number(value) => pairs.push((prefix, value.to_string())),
        Value::String(value) => pairs.push((prefix, value.clone())),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(key(&index.to_string()), item, pairs);
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                flatten(key(name), item, pairs);
            }
        }
    }
}

fn escape(text: &str) -> String {
    utf8_percent_encode(text, KEPT)
        .to_string()
        .replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_params_flatten_and_escape_as_urlencode_does() {
        let params = json!({
            "Limit": 20,
            "Filters": [{"Name": "zone", "Values": ["ap guangzhou~3", "中&=+/"]}],
            "DryRun": false,
            "Nothing": null,
        });
        assert_eq!(
            encode(&params),
            "DryRun=false&Filters.0.Name=zone&Filters.0.Values.0=ap+guangzhou~3\
             &Filters.0.Values.1=%E4%B8%AD%26%3D%2B%2F&Limit=20"
        );
        assert_eq!(encode(&json!({})), "");
    }
}
