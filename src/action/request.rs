//! The `http::Request` of one API 3.0 action.

use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::uri::Uri;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::Full;
use serde::Serialize;

use super::ServiceName;
use super::endpoint::Endpoint;
use super::header::{X_TC_ACTION, X_TC_LANGUAGE, X_TC_REGION, X_TC_VERSION};
use super::media_type::FORM_URLENCODED;
use super::query;

/// The Content-Type the official SDKs send with JSON parameters, exactly:
/// the signature covers it.
const APPLICATION_JSON: &str = "application/json";

/// Builds the request of one API action: `POST /` with the action's
/// parameters as a JSON body and the `X-TC-*` headers that name it; or,
/// with [`get`](Self::get), `GET /?{parameters}`.
///
/// The request goes to `https://{service}.tencentcloudapi.com` unless
/// [`endpoint`](Self::endpoint) says otherwise. It carries the `Host`
/// header the signer signs, and the [`ServiceName`] extension, so that an
/// IP endpoint signs for the right service. It is not signed yet:
/// [`SignLayer`](crate::sign::SignLayer) does that on every attempt.
///
/// ```
/// use serde::Serialize;
/// use tower_tencentcloud::action::{ActionRequest, ServiceName};
///
/// #[derive(Serialize)]
/// #[serde(rename_all = "PascalCase")]
/// struct DescribeInstances {
///     limit: u32,
/// }
///
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
///     .region("ap-guangzhou")
///     .params(&DescribeInstances { limit: 10 })
///     .build()?;
///
/// assert_eq!(request.uri(), "https://cvm.tencentcloudapi.com/");
/// assert_eq!(request.headers()["host"], "cvm.tencentcloudapi.com");
/// assert_eq!(request.headers()["x-tc-action"], "DescribeInstances");
/// assert_eq!(request.headers()["x-tc-version"], "2017-03-12");
/// assert_eq!(request.headers()["x-tc-region"], "ap-guangzhou");
/// assert_eq!(request.headers()["content-type"], "application/json");
/// assert_eq!(request.extensions().get(), Some(&ServiceName::new("cvm")));
/// # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
/// ```
pub struct ActionRequest {
    service: String,
    version: String,
    action: String,
    region: Option<String>,
    language: Option<String>,
    endpoint: Endpoint,
    params: Result<Vec<u8>, ActionRequestError>,
    get: bool,
}

impl ActionRequest {
    /// The action `action` of version `version` (`2017-03-12`) of the
    /// service `service` (`cvm`), with no parameters (`{}`).
    pub fn new(
        service: impl Into<String>,
        version: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        Self {
            service: service.into(),
            version: version.into(),
            action: action.into(),
            region: None,
            language: None,
            endpoint: Endpoint::nearest(),
            params: Ok(b"{}".to_vec()),
            get: false,
        }
    }

    /// Sends a `GET` with the parameters in the query string, as the
    /// official SDKs do with `reqMethod: "GET"`: flattened
    /// (`Filters.0.Values.1=...`, object keys in sorted order), form-encoded
    /// as Python's `urlencode` writes them, with `Content-Type:
    /// application/x-www-form-urlencoded` and an empty body. Booleans are
    /// `true`/`false` and nulls are left out. The signature covers the query.
    ///
    /// The API takes a GET only for actions with small, flat parameters;
    /// a URL is limited in length where a body is not.
    ///
    /// ```
    /// use tower_tencentcloud::action::ActionRequest;
    ///
    /// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
    ///     .params(&serde_json::json!({"Limit": 10, "InstanceIds": ["ins-1", "ins-2"]}))
    ///     .get()
    ///     .build()?;
    /// assert_eq!(request.method(), "GET");
    /// assert_eq!(
    ///     request.uri(),
    ///     "https://cvm.tencentcloudapi.com/?InstanceIds.0=ins-1&InstanceIds.1=ins-2&Limit=10"
    /// );
    /// assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
    /// assert_eq!(http_body::Body::size_hint(request.body()).exact(), Some(0));
    /// # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
    /// ```
    pub fn get(mut self) -> Self {
        self.get = true;
        self
    }

    /// The region (`ap-guangzhou`), sent as `X-TC-Region`; actions that are
    /// not regional go without.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The language of error messages (`zh-CN`, `en-US`), sent as
    /// `X-TC-Language`; the API's default applies without.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Sends to `endpoint` instead of `https://{service}.tencentcloudapi.com`:
    /// an [`Endpoint`] (`Endpoint::region("ap-guangzhou")`), or a URL
    /// string, a custom endpoint (`http://127.0.0.1:8080`). A URL needs a
    /// scheme and a host; a path other than `/` or a query is an error at
    /// [`build`](Self::build).
    pub fn endpoint(mut self, endpoint: impl Into<Endpoint>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The action's parameters, serialized to the JSON object of the body.
    ///
    /// A serialization failure, or a value that is not a JSON object, is an
    /// error at [`build`](Self::build).
    pub fn params<T: Serialize + ?Sized>(mut self, params: &T) -> Self {
        self.params = serde_json::to_vec(params)
            .map_err(|err| ActionRequestError::new(ActionRequestErrorKind::Params, err.to_string()))
            .and_then(|json| {
                if json.first() == Some(&b'{') {
                    Ok(json)
                } else {
                    Err(ActionRequestError::new(
                        ActionRequestErrorKind::Params,
                        "the parameters must serialize to a JSON object",
                    ))
                }
            });
        self
    }

    /// The request, ready for [`SignLayer`](crate::sign::SignLayer).
    pub fn build(self) -> Result<Request<Full<Bytes>>, ActionRequestError> {
        if self.service.is_empty()
            || !self
                .service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ActionRequestError::new(
                ActionRequestErrorKind::Service,
                format!("{:?} is not a service name", self.service),
            ));
        }
        let uri = self.endpoint.uri(&self.service)?;
        let host = uri
            .authority()
            .map(|authority| authority.as_str())
            .unwrap_or_default();
        let host = header_value(HOST, host)?;
        let params = self.params?;
        let (method, uri, body, content_type) = if self.get {
            let params: serde_json::Value = serde_json::from_slice(&params).map_err(|err| {
                ActionRequestError::new(ActionRequestErrorKind::Params, err.to_string())
            })?;
            let query = query::encode(&params);
            let uri = if query.is_empty() {
                uri
            } else {
                with_query(uri, &query)?
            };
            (Method::GET, uri, Bytes::new(), FORM_URLENCODED)
        } else {
            (Method::POST, uri, Bytes::from(params), APPLICATION_JSON)
        };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(HOST, host);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(X_TC_ACTION, header_value(X_TC_ACTION, &self.action)?);
        headers.insert(X_TC_VERSION, header_value(X_TC_VERSION, &self.version)?);
        if let Some(region) = &self.region {
            headers.insert(X_TC_REGION, header_value(X_TC_REGION, region)?);
        }
        if let Some(language) = &self.language {
            headers.insert(X_TC_LANGUAGE, header_value(X_TC_LANGUAGE, language)?);
        }
        request
            .extensions_mut()
            .insert(ServiceName::new(self.service));
        Ok(request)
    }
}

/// `uri` (whose path is `/`) with the query `query`.
fn with_query(uri: Uri, query: &str) -> Result<Uri, ActionRequestError> {
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(format!("/?{query}").parse().map_err(|_| {
        ActionRequestError::new(
            ActionRequestErrorKind::Params,
            "the parameters make no valid query string",
        )
    })?);
    Uri::from_parts(parts).map_err(|_| {
        ActionRequestError::new(
            ActionRequestErrorKind::Params,
            "the parameters make no valid query string",
        )
    })
}

fn header_value(name: HeaderName, value: &str) -> Result<HeaderValue, ActionRequestError> {
    HeaderValue::from_str(value).map_err(|_| {
        ActionRequestError::new(
            ActionRequestErrorKind::Header,
            format!("{value:?} is not a valid {name} value"),
        )
    })
}

impl fmt::Debug for ActionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameters can hold passwords (CreateInstances' LoginSettings):
        // only their size is shown.
        let params = self
            .params
            .as_ref()
            .map(|json| format!("{} bytes", json.len()));
        f.debug_struct("ActionRequest")
            .field("service", &self.service)
            .field("version", &self.version)
            .field("action", &self.action)
            .field("region", &self.region)
            .field("language", &self.language)
            .field("endpoint", &self.endpoint)
            .field("params", &params)
            .field("get", &self.get)
            .finish()
    }
}

define_kind_error! {
    /// [`ActionRequest::build`] failed; no request was made.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ActionRequestError {}

    /// The kinds of [`ActionRequestError`].
    pub enum ActionRequestErrorKind {
        /// The service name is empty or not a DNS label (`cvm`, `tke`, ...).
        Service => "invalid service",
        /// The endpoint is not `http(s)://host[:port][/]`.
        Endpoint => "invalid endpoint",
        /// The action, version, region or language is not a valid header value.
        Header => "invalid header",
        /// The parameters failed to serialize, or are not a JSON object.
        Params => "invalid parameters",
    }
}

impl_kind_error_display!(ActionRequestError);

impl std::error::Error for ActionRequestError {}
