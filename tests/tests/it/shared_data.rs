//! The conformance data copied into this repository must equal the team's
//! reference copy in `../shared/conformance` (re-copy when it changes).

use std::collections::BTreeSet;
use std::path::Path;

use glance_e2e_tests::conformance;
use glance_e2e_tests::shared::shared_or_skip;

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect()
}

#[test]
fn conformance_data_matches_the_shared_reference() {
    let Some(shared) = shared_or_skip("conformance_data_matches_the_shared_reference") else {
        return;
    };
    for (ours, theirs) in [
        (
            conformance::scenarios_dir(),
            shared.join("conformance/scenarios"),
        ),
        (
            conformance::expected_dir(),
            shared.join("conformance/expected"),
        ),
    ] {
        assert_eq!(
            files(&ours),
            files(&theirs),
            "{} and {} hold different files",
            ours.display(),
            theirs.display()
        );
        for name in files(&ours) {
            let a = std::fs::read(ours.join(&name)).expect("ours readable");
            let b = std::fs::read(theirs.join(&name)).expect("theirs readable");
            assert!(
                a == b,
                "{name} differs from ../shared: copy shared/conformance again"
            );
        }
    }
}
