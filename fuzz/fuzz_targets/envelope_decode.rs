//! `envelope::decode` on any bytes: never a panic, and the same verdict as
//! serde_json under the envelope rules (the crate's own reference decoder,
//! `src/envelope/oracle.rs`, which its unit tests use too), with these
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
//! - Depth: none. The reference reads the envelope's own objects with
//!   visitors two levels deep and skips everything else with serde_json's
//!   `IgnoredAny` and `RawValue`, which have no recursion limit, so a
//!   payload of any depth gets a verdict, as it does from the scanner.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_tencentcloud_fuzz::{neutralize_payload_scalars, reference_verdict, scanner_verdict};

fuzz_target!(|body: &[u8]| {
    let (our_id, ours) = scanner_verdict(body);
    let (reference_id, reference) = reference_verdict(&neutralize_payload_scalars(body));
    match (ours, reference) {
        (Ok(ours), Ok(reference)) => assert_eq!(
            (our_id, ours),
            (reference_id, reference),
            "the scanner and serde_json read different fields"
        ),
        (Ok(ours), Err(kind)) => {
            panic!("the scanner accepts ({ours:?}) what serde_json rejects ({kind:?})")
        }
        (Err(kind), Ok(reference)) => {
            panic!("the scanner rejects ({kind:?}) what serde_json accepts: {reference:?}")
        }
        (Err(_), Err(_)) => {}
    }
});
