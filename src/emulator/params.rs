//! The parameters of one action, read with the API's errors: a JSON
//! object, or form-encoded pairs (`Filters.0.Values.1=...`) as the SDKs
//! send them with a GET or an HmacSHA1 / HmacSHA256 signature.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::reply::ApiFailure;

/// The parameters of a call as they came.
pub(crate) enum RawParams {
    /// A JSON body (empty means no parameters).
    Json(Bytes),
    /// Form-encoded pairs, decoded, with flattened names.
    Form(Vec<(String, String)>),
}

impl RawParams {
    #[cfg(test)]
    pub(crate) fn json(body: &[u8]) -> Self {
        Self::Json(Bytes::copy_from_slice(body))
    }
}

/// The parameters of a call: a JSON object whose every key the action knows.
///
/// Form-encoded values are all text: where a number or a boolean is
/// wanted, its text is read as one, as the API reads it.
pub(crate) struct Params {
    map: Map<String, Value>,
    from_form: bool,
}

impl Params {
    /// Parses the parameters and rejects keys outside `known` with
    /// `UnknownParameter`.
    pub(crate) fn parse(raw: &RawParams, known: &[&str]) -> Result<Self, ApiFailure> {
        let (map, from_form) = match raw {
            RawParams::Json(body) => (json_object(body)?, false),
            RawParams::Form(pairs) => (unflatten(pairs)?, true),
        };
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ApiFailure::new(
                "UnknownParameter",
                format!("The parameter `{unknown}` is not recognized."),
            ));
        }
        Ok(Self { map, from_form })
    }

    /// `DryRun`, false when absent.
    pub(crate) fn dry_run(&self) -> Result<bool, ApiFailure> {
        Ok(self.boolean("DryRun")?.unwrap_or(false))
    }

    /// A boolean, `None` when absent.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiFailure> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(value)) => Ok(Some(*value)),
            // The SDKs write booleans in forms as `true` (Node.js) or `True` (Python).
            Some(Value::String(text)) if self.from_form && text.eq_ignore_ascii_case("true") => {
                Ok(Some(true))
            }
            Some(Value::String(text)) if self.from_form && text.eq_ignore_ascii_case("false") => {
                Ok(Some(false))
            }
            Some(_) => Err(ApiFailure::invalid_parameter_value(name, "not a boolean")),
        }
    }

    /// An integer in `min..=max`, `default` when absent.
    pub(crate) fn integer(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ApiFailure> {
        let value = match self.map.get(name) {
            None | Some(Value::Null) => return Ok(default),
            Some(Value::String(text)) if self.from_form => text.parse().map_err(|_| {
                ApiFailure::invalid_parameter_value(name, "not a non-negative integer")
            })?,
            Some(value) => value.as_u64().ok_or_else(|| {
                ApiFailure::invalid_parameter_value(name, "not a non-negative integer")
            })?,
        };
        if !(min..=max).contains(&value) {
            return Err(ApiFailure::invalid_parameter_value(
                name,
                &format!("{value} is outside {min}..={max}"),
            ));
        }
        Ok(value)
    }

    /// A string, `None` when absent.
    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, ApiFailure> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(ApiFailure::invalid_parameter_value(name, "not a string")),
        }
    }

    /// A required string.
    pub(crate) fn required_string(&self, name: &str) -> Result<&str, ApiFailure> {
        self.string(name)?
            .ok_or_else(|| ApiFailure::missing_parameter(name))
    }

    /// A list of strings, `None` when absent; at most `max` of them.
    pub(crate) fn strings(&self, name: &str, max: usize) -> Result<Option<Vec<&str>>, ApiFailure> {
        let items = match self.map.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ApiFailure::invalid_parameter_value(name, "not a list")),
        };
        if items.len() > max {
            return Err(ApiFailure::invalid_parameter_value(
                name,
                &format!("more than {max} items"),
            ));
        }
        items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    ApiFailure::invalid_parameter_value(name, "not a list of strings")
                })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// A field of an object parameter (`Placement.Zone`), as a string.
    pub(crate) fn nested_string(
        &self,
        name: &str,
        field: &str,
    ) -> Result<Option<&str>, ApiFailure> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => match object.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(value)) => Ok(Some(value)),
                Some(_) => Err(ApiFailure::invalid_parameter_value(
                    &format!("{name}.{field}"),
                    "not a string",
                )),
            },
            Some(_) => Err(ApiFailure::invalid_parameter_value(name, "not an object")),
        }
    }

    /// The raw value of a parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|value| !value.is_null())
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiFailure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiFailure::new(
            "InvalidParameter",
            "The request body is not a JSON object.",
        )),
    }
}

/// `Filters.0.Values.1=a` as `{"Filters": [{"Values": [_, "a"]}]}`: names
/// split at dots, numeric parts index lists, values stay text.
fn unflatten(pairs: &[(String, String)]) -> Result<Map<String, Value>, ApiFailure> {
    let mut root = Value::Object(Map::new());
    for (name, value) in pairs {
        let clash = || {
            ApiFailure::new(
                "InvalidParameter",
                format!("The parameter `{name}` clashes with another of the same prefix."),
            )
        };
        let mut node = &mut root;
        for part in name.split('.') {
            let Value::Object(map) = node else {
                return Err(clash());
            };
            node = map.entry(part).or_insert_with(|| Value::Object(Map::new()));
        }
        match node {
            Value::Object(map) if map.is_empty() => *node = Value::String(value.clone()),
            _ => return Err(clash()),
        }
    }
    let Value::Object(map) = lists(root) else {
        unreachable!("the root is an object")
    };
    Ok(map)
}

/// Turns the objects whose keys are exactly `0..n` into lists.
fn lists(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let is_list =
        !map.is_empty() && (0..map.len()).all(|index| map.contains_key(index.to_string().as_str()));
    if is_list {
        let mut items: Vec<(usize, Value)> = map
            .into_iter()
            .map(|(key, value)| (key.parse().unwrap_or(usize::MAX), lists(value)))
            .collect();
        items.sort_by_key(|(index, _)| *index);
        Value::Array(items.into_iter().map(|(_, value)| value).collect())
    } else {
        Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, lists(value)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Params::parse(&RawParams::json(br#"{"Limit":1,"Limt":2}"#), &["Limit"])
            .err()
            .unwrap();
        assert_eq!(err.code, "UnknownParameter");
        assert!(err.message.contains("`Limt`"), "{}", err.message);
    }

    #[test]
    fn integers_in_range_with_defaults() {
        let params = Params::parse(
            &RawParams::json(br#"{"Limit":100,"Offset":-1}"#),
            &["Limit", "Offset", "X"],
        )
        .unwrap();
        assert_eq!(params.integer("Limit", 20, 0, 100), Ok(100));
        assert_eq!(params.integer("X", 20, 0, 100), Ok(20));
        let err = params.integer("Offset", 0, 0, u64::MAX).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        let params = Params::parse(&RawParams::json(br#"{"Limit":101}"#), &["Limit"]).unwrap();
        assert_eq!(
            params.integer("Limit", 20, 0, 100).unwrap_err().code,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn empty_bodies_are_no_parameters_and_arrays_are_refused() {
        assert!(Params::parse(&RawParams::json(b""), &[]).is_ok());
        assert_eq!(
            Params::parse(&RawParams::json(b"[]"), &[])
                .err()
                .unwrap()
                .code,
            "InvalidParameter"
        );
    }

    #[test]
    fn forms_unflatten_into_lists_and_objects_and_their_text_reads_as_numbers() {
        let pairs = [
            ("Filters.0.Name", "zone"),
            ("Filters.0.Values.1", "b"),
            ("Filters.0.Values.0", "a"),
            ("Limit", "20"),
            ("DryRun", "True"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let params = Params::parse(
            &RawParams::Form(pairs.to_vec()),
            &["Filters", "Limit", "DryRun"],
        )
        .unwrap();
        assert_eq!(
            params.get("Filters"),
            Some(&serde_json::json!([{"Name": "zone", "Values": ["a", "b"]}]))
        );
        assert_eq!(params.integer("Limit", 0, 0, 100), Ok(20));
        assert_eq!(params.dry_run(), Ok(true));
        // Text is read as numbers only from forms.
        let json = Params::parse(&RawParams::json(br#"{"Limit":"20"}"#), &["Limit"]).unwrap();
        assert!(json.integer("Limit", 0, 0, 100).is_err());
    }

    #[test]
    fn form_names_that_clash_are_refused() {
        let pairs = [("A", "1"), ("A.B", "2")].map(|(n, v)| (n.to_owned(), v.to_owned()));
        let err = Params::parse(&RawParams::Form(pairs.to_vec()), &["A"])
            .err()
            .unwrap();
        assert_eq!(err.code, "InvalidParameter");
    }
}
