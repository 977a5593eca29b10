//! `leakhunt hunt` on services whose heap changes without leaking (V8 changing how it keeps
//! strings) and on the shapes that churn hides: strings appended to, collections of small
//! integers, two leaks on one path.

use crate::hunt::{hunt, service};

/// A list of strings built with `+=` and refreshed in turn holds 1,000 entries throughout;
/// V8 flattens each fresh one when it is sent, so flat strings replace concatenated ones at
/// every step.
#[test]
fn strings_changing_kind_in_a_list_that_holds_still_are_clean() {
    let file = service("headlines-service.js");
    let h = hunt(
        &["--request", "GET /ticker", "--iterations", "300"],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.report["verdict"], "clean", "{:#}", h.report["suspects"]);
    assert_eq!(h.code, Some(0), "{}", h.stderr);
}
