//! Deserializes the action's own fields out of an envelope.

use serde::Deserialize;

/// Deserializes `Response` (the action's fields, with `RequestId`) into `T`.
///
/// Unknown fields are left to `T`'s own rules, so a struct that names only
/// the fields it needs works as is.
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct DescribeRegions<'a> {
///     #[serde(rename = "TotalCount")]
///     total_count: u32,
///     #[serde(rename = "RequestId")]
///     request_id: &'a str,
/// }
///
/// let body = br#"{"Response":{"TotalCount":2,"RegionSet":[],"RequestId":"r-3"}}"#;
/// let fields: DescribeRegions = tower_tencentcloud::envelope::from_slice(body).unwrap();
/// assert_eq!(fields.total_count, 2);
/// assert_eq!(fields.request_id, "r-3");
/// ```
pub fn from_slice<'de, T: Deserialize<'de>>(body: &'de [u8]) -> serde_json::Result<T> {
    #[derive(Deserialize)]
    struct Envelope<T> {
        #[serde(rename = "Response")]
        response: T,
    }
    serde_json::from_slice::<Envelope<T>>(body).map(|envelope| envelope.response)
}
