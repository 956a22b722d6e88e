//! The action request builder: endpoints, headers and typed errors.

use std::collections::BTreeMap;

use http::Method;
use serde::Serialize;
use serde::ser::Error as _;
use serde_json::json;
use tower_tencentcloud::action::{ActionRequest, ActionRequestErrorKind};
use tower_tencentcloud::sign::{ServiceName, SignableBody};

fn body(request: &http::Request<http_body_util::Full<bytes::Bytes>>) -> Vec<u8> {
    request.body().payload().as_ref().to_vec()
}

#[test]
fn defaults_to_the_service_domain_and_an_empty_object() {
    let request = ActionRequest::new("cbs", "2017-03-12", "DescribeDisks")
        .build()
        .unwrap();

    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "https://cbs.tencentcloudapi.com/");
    assert_eq!(request.headers()["host"], "cbs.tencentcloudapi.com");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(request.headers()["x-tc-action"], "DescribeDisks");
    assert_eq!(request.headers()["x-tc-version"], "2017-03-12");
    assert!(request.headers().get("x-tc-region").is_none());
    assert!(request.headers().get("x-tc-language").is_none());
    assert_eq!(body(&request), b"{}");
    assert_eq!(
        request.extensions().get::<ServiceName>().unwrap().as_str(),
        "cbs"
    );
}

#[test]
fn region_language_and_params() {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Params<'a> {
        instance_ids: &'a [&'a str],
        limit: u32,
    }

    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .region("ap-guangzhou")
        .language("en-US")
        .params(&Params {
            instance_ids: &["ins-1"],
            limit: 1,
        })
        .build()
        .unwrap();

    assert_eq!(request.headers()["x-tc-region"], "ap-guangzhou");
    assert_eq!(request.headers()["x-tc-language"], "en-US");
    assert_eq!(body(&request), br#"{"InstanceIds":["ins-1"],"Limit":1}"#);
}

#[test]
fn an_endpoint_override_sets_the_host_with_its_port() {
    let local = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint("http://127.0.0.1:8080")
        .build()
        .unwrap();
    assert_eq!(local.uri(), "http://127.0.0.1:8080/");
    assert_eq!(local.headers()["host"], "127.0.0.1:8080");
    // The IP says nothing of the service; the extension does.
    assert_eq!(
        local.extensions().get::<ServiceName>().unwrap().as_str(),
        "cvm"
    );

    let regional = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint("https://cvm.ap-shanghai.tencentcloudapi.com/")
        .build()
        .unwrap();
    assert_eq!(
        regional.uri(),
        "https://cvm.ap-shanghai.tencentcloudapi.com/"
    );
    assert_eq!(
        regional.headers()["host"],
        "cvm.ap-shanghai.tencentcloudapi.com"
    );
}

#[test]
fn invalid_endpoints_are_typed_errors() {
    for endpoint in [
        "cvm.tencentcloudapi.com",
        "ftp://cvm.tencentcloudapi.com",
        "https://cvm.tencentcloudapi.com/v2",
        "https://cvm.tencentcloudapi.com/?Action=DescribeRegions",
        "https://user:password@cvm.tencentcloudapi.com",
        "http://",
        "not a uri",
    ] {
        let err = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
            .endpoint(endpoint)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ActionRequestErrorKind::Endpoint, "{endpoint}");
    }
}

#[test]
fn invalid_services_and_header_values_are_typed_errors() {
    for service in ["", "cvm.tencentcloudapi.com", "c m", "cvm/"] {
        let err = ActionRequest::new(service, "2017-03-12", "DescribeRegions")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ActionRequestErrorKind::Service, "{service:?}");
    }
    let err = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .region("ap-guangzhou\r\nX-Injected: 1")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ActionRequestErrorKind::Header);
}

#[test]
fn params_that_are_not_a_json_object_are_typed_errors() {
    for params in [
        json!(null),
        json!([1, 2]),
        json!("DescribeRegions"),
        json!(1),
    ] {
        let err = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
            .params(&params)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ActionRequestErrorKind::Params, "{params}");
    }
}

#[test]
fn a_failing_serialization_is_a_typed_error() {
    struct Unserializable;
    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("refuses to serialize"))
        }
    }
    // Map keys must be strings in JSON.
    let tuple_keys = BTreeMap::from([((1, 2), "value")]);

    let err = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .params(&Unserializable)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ActionRequestErrorKind::Params);
    assert!(err.to_string().contains("refuses to serialize"), "{err}");

    let err = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .params(&tuple_keys)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ActionRequestErrorKind::Params);
}

#[test]
fn debug_shows_the_size_of_the_params_not_their_content() {
    let builder = ActionRequest::new("cvm", "2017-03-12", "ResetInstancesPassword")
        .params(&json!({"Password": "hunter2-P@ssw0rd"}));
    let debug = format!("{builder:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("ResetInstancesPassword"), "{debug}");
}
