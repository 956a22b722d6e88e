//! `envelope::decode` on any bytes: never a panic, and the same verdict as
//! serde_json under the envelope rules (see `serde_envelope`), with two
//! rules for where the two may differ:
//!
//! - Misspelt scalars inside payload values (`tru`, `01`, `1.2.3`), which
//!   the block scanner lets through by design: serde_json judges
//!   `neutralize_payload_scalars(body)`, the body with each of them
//!   replaced by `0` and blanks (the same source file as the crate's
//!   differential tests use), while `decode` reads `body` itself. A scalar
//!   there is a run of the bytes literals and numbers are made of
//!   (`0-9 + - . E a e f l n r s t u`); any other byte outside strings,
//!   DEL or `@` among them, is left for serde_json to refuse, and `decode`
//!   must refuse it too.
//! - Depth: serde_json refuses nesting deeper than its recursion limit
//!   (128), the scanner accepts any depth. When serde_json's error is the
//!   recursion limit (its message contains "recursion limit exceeded"),
//!   there is no reference verdict and the comparison is skipped; `decode`
//!   has still run, so a panic still counts. (serde_json skips ignored
//!   values and `RawValue`s without that limit, so with today's reference
//!   this hardly ever applies; the rule keeps a change of the reference
//!   from turning deep payloads into false alarms.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_tencentcloud::envelope::decode;
use tower_tencentcloud_fuzz::{
    Refusal, SerdeVerdict, decode_with_serde, neutralize_payload_scalars,
};

fuzz_target!(|body: &[u8]| {
    let scanned = decode(body);
    let reference = match decode_with_serde(&neutralize_payload_scalars(body)) {
        Ok(verdict) => Some(verdict),
        Err(Refusal::NotAnEnvelope) => None,
        Err(Refusal::RecursionLimit) => return,
    };
    match (scanned, reference) {
        (Ok(decoded), Some(reference)) => {
            let ours = SerdeVerdict {
                request_id: decoded.request_id().map(str::to_owned),
                error: decoded
                    .error()
                    .map(|error| (error.code().to_owned(), error.message().to_owned())),
            };
            assert_eq!(
                ours, reference,
                "the scanner and serde_json read different fields"
            );
        }
        (Ok(decoded), None) => {
            panic!("the scanner accepts what serde_json rejects: {decoded:?}")
        }
        (Err(err), Some(reference)) => {
            panic!("the scanner rejects ({err}) what serde_json accepts: {reference:?}")
        }
        (Err(_), None) => {}
    }
});
