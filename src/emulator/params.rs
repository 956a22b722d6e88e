//! The JSON parameters of one action, read with the API's errors.

use serde_json::{Map, Value};

use super::reply::ApiFailure;

/// The parameters of a call: a JSON object whose every key the action knows.
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Parses the body (empty means no parameters) and rejects keys outside
    /// `known` with `UnknownParameter`.
    pub(crate) fn parse(body: &[u8], known: &[&str]) -> Result<Self, ApiFailure> {
        let map = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiFailure::new(
                        "InvalidParameter",
                        "The request body is not a JSON object.",
                    ));
                }
            }
        };
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ApiFailure::new(
                "UnknownParameter",
                format!("The parameter `{unknown}` is not recognized."),
            ));
        }
        Ok(Self(map))
    }

    /// `DryRun`, false when absent.
    pub(crate) fn dry_run(&self) -> Result<bool, ApiFailure> {
        match self.0.get("DryRun") {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(dry_run)) => Ok(*dry_run),
            Some(_) => Err(ApiFailure::invalid_parameter_value(
                "DryRun",
                "not a boolean",
            )),
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
        let value = match self.0.get(name) {
            None | Some(Value::Null) => return Ok(default),
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
        match self.0.get(name) {
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
        let items = match self.0.get(name) {
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
        match self.0.get(name) {
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
        self.0.get(name).filter(|value| !value.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Params::parse(br#"{"Limit":1,"Limt":2}"#, &["Limit"])
            .err()
            .unwrap();
        assert_eq!(err.code, "UnknownParameter");
        assert!(err.message.contains("`Limt`"), "{}", err.message);
    }

    #[test]
    fn integers_in_range_with_defaults() {
        let params =
            Params::parse(br#"{"Limit":100,"Offset":-1}"#, &["Limit", "Offset", "X"]).unwrap();
        assert_eq!(params.integer("Limit", 20, 0, 100), Ok(100));
        assert_eq!(params.integer("X", 20, 0, 100), Ok(20));
        let err = params.integer("Offset", 0, 0, u64::MAX).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        let params = Params::parse(br#"{"Limit":101}"#, &["Limit"]).unwrap();
        assert_eq!(
            params.integer("Limit", 20, 0, 100).unwrap_err().code,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn empty_bodies_are_no_parameters_and_arrays_are_refused() {
        assert!(Params::parse(b"", &[]).is_ok());
        assert_eq!(
            Params::parse(b"[]", &[]).err().unwrap().code,
            "InvalidParameter"
        );
    }
}
