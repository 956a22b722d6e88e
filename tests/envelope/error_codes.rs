//! Every code the services declare gets a category and a retry class, and
//! spot checks pin the classification table.

use std::collections::BTreeSet;

use tower_tencentcloud::{Category, Code, RetryClass};

fn declared_codes() -> BTreeSet<String> {
    let tsv = include_str!("../data/error-codes.tsv");
    tsv.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split('\t').nth(2).expect("three columns").to_owned())
        .collect()
}

#[test]
fn every_declared_code_has_its_prefix_as_category_and_a_class() {
    let codes = declared_codes();
    assert!(codes.len() > 11_000, "{} codes", codes.len());
    let mut throttled = 0;
    for text in &codes {
        let code = Code::new(text.as_str());
        let prefix = text.split('.').next().unwrap();
        match code.category() {
            Category::Other => assert_eq!(Category::from_prefix(prefix), Category::Other),
            category => assert_eq!(category.prefix(), Some(prefix), "{text}"),
        }
        let class = code.retry_class();
        if class == RetryClass::Throttled {
            throttled += 1;
        }
        if prefix == "LimitExceeded" && class == RetryClass::Throttled {
            // Only the curated rate limits, never a quota.
            assert!(!text.contains("Quota"), "{text}");
        }
    }
    assert!(throttled > 40, "{throttled} throttle codes");
}

#[test]
fn spot_checks_pin_the_table() {
    let expect = [
        ("RequestLimitExceeded", RetryClass::Throttled),
        (
            "RequestLimitExceeded.UinLimitExceeded",
            RetryClass::Throttled,
        ),
        (
            "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
            RetryClass::Throttled,
        ),
        ("LimitExceeded.TooManyRequests", RetryClass::Throttled),
        ("LimitExceeded.RateLimitExceeded", RetryClass::Throttled),
        ("FailedOperation.FrequencyLimit", RetryClass::Throttled),
        ("InternalError", RetryClass::Transient),
        ("InternalError.DbError", RetryClass::Transient),
        ("InternalError.", RetryClass::Transient),
        ("ServiceUnavailable", RetryClass::Transient),
        ("AuthFailure.SignatureExpire", RetryClass::ClockSkew),
        ("AuthFailure.SignatureFailure", RetryClass::Never),
        ("AuthFailure.SecretIdNotFound", RetryClass::Never),
        ("LimitExceeded", RetryClass::Never),
        ("LimitExceeded.CvmQuota", RetryClass::Never),
        ("LimitExceeded.InstanceQuota", RetryClass::Never),
        (
            "InvalidParameterValue.BindInfrequentaccessFirst",
            RetryClass::Never,
        ),
        ("ResourceInUse.RatelimitRuleExistError", RetryClass::Never),
        ("InvalidParameter", RetryClass::Never),
        ("ResourceNotFound.InstanceNotFound", RetryClass::Never),
        ("DryRunOperation", RetryClass::Never),
        ("CdbError.Timeout", RetryClass::Never),
    ];
    for (code, class) in expect {
        assert_eq!(Code::new(code).retry_class(), class, "{code}");
    }
    assert_eq!(
        Code::new("DryRunOperation").category(),
        Category::DryRunOperation
    );
    assert_eq!(
        Code::new("ResourcesSoldOut.Cvm").category(),
        Category::ResourcesSoldOut
    );
    assert_eq!(Code::new("Credential.Bad").category(), Category::Other);
}
