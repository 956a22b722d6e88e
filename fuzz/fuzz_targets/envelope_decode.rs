//! `envelope::decode` on any bytes: never a panic, and the same verdict as
//! serde_json under the envelope rules (see `serde_envelope`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_tencentcloud::envelope::decode;
use tower_tencentcloud_fuzz::{SerdeVerdict, decode_with_serde};

fuzz_target!(|body: &[u8]| {
    let scanned = decode(body);
    let reference = decode_with_serde(body);
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
