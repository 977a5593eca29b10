//! A hunt whose load would send no request measures nothing: refused before the service is
//! touched, so no verdict (least of all "clean") comes out of it.

use leakhunt_hunt::{hunt, HuntConfig, HuntError, TargetSpec};
use leakhunt_load::{Scenario, Step};

#[test]
fn a_hunt_with_no_iterations_or_no_steps_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    // Held, so no other process can open it meanwhile: nothing answers there.
    let closed = leakhunt_testkit::ports::ClosedPort::new();
    let no_iterations = Scenario::new(vec![Step::new("GET", "/")], 0, 1);
    let no_steps = Scenario::new(Vec::new(), 100, 1);
    for scenario in [no_iterations, no_steps] {
        let config = HuntConfig::new(
            TargetSpec::Port(closed.port()),
            scenario,
            dir.path().join("out"),
        );
        let err = hunt(&config, &()).unwrap_err();
        assert!(matches!(err, HuntError::NothingToMeasure(_)), "{err}");
        assert!(err.to_string().contains("nothing to measure"), "{err}");
    }
}
