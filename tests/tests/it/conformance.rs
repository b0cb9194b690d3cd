//! Conformance: the recorded behaviour of real Glance 33, replayed against the
//! mock server (and, on request, any other server).

use glance_e2e_tests::conformance::{self, Outcome, Step, compare, load_expected, run_scenario};
use std::path::Path;

use glance_mock_server::MockServer;
use serde_json::json;

/// Scenarios the mock server must pass, error messages included (strict).
/// Grow this list as the mock learns; the others are run and summarised,
/// not asserted.
const PASSING: &[&str] = &[
    "cache-locations-usage",
    "errors",
    "errors-accept",
    "image-create",
    "image-data",
    "image-deactivate",
    "image-import",
    "image-list",
    "image-members",
    "image-patch",
    "image-patch-v20",
    "image-quotas",
    "image-stores",
    "image-tags",
    "image-upload-headers",
    "image-visibility",
    "metadefs",
    "schemas",
    "tasks",
    "versions",
];

/// The project's own scenarios (in `tests/conformance/own`), each of which
/// the mock must pass strictly.
const OWN: &[&str] = &[
    "copy-image-all-stores",
    "import-failing",
    "list-query-empty-values",
    "list-query-operators",
    "list-query-repeated-keys",
    "list-query-unknown-keys",
    "locations",
    "metadefs-lifecycle",
];

/// Runs scenario `name` of `data` (the shared copies or the project's own)
/// against `base` and compares it with the reference.
async fn check_in(data: &Path, base: &str, name: &str, strict: bool) -> Outcome {
    conformance::check_in(data, base, name, strict)
        .await
        .unwrap_or_else(|e| Outcome {
            problems: vec![format!("could not run: {e}")],
            notes: Vec::new(),
        })
}

/// One-line summary of an outcome.
fn summary(name: &str, outcome: &Outcome) -> String {
    let first = outcome
        .problems
        .first()
        .map(|p| p.lines().next().unwrap_or(""))
        .unwrap_or("");
    if outcome.passed() {
        format!("ok   {name} ({} message notes)", outcome.notes.len())
    } else {
        format!(
            "FAIL {name}: {} problems; first: {first}",
            outcome.problems.len()
        )
    }
}

#[tokio::test]
async fn runner_detects_a_changed_expected_field() {
    let server = MockServer::start().await.expect("mock starts");
    let base = server.url();
    let scenarios =
        conformance::load_scenarios(&conformance::scenarios_dir()).expect("scenarios load");
    let (_, scenario) = scenarios
        .iter()
        .find(|(n, _)| n == "versions")
        .expect("scenario versions exists");
    let actual = run_scenario(&base, "versions", scenario)
        .await
        .expect("scenario runs");
    let expected =
        load_expected(&conformance::expected_dir(), "versions").expect("expected transcript loads");
    let outcome = compare(&expected, &actual, true);
    assert!(outcome.passed(), "{}", outcome.report("versions"));

    type Change = (&'static str, fn(&mut Vec<Step>));
    let changes: &[Change] = &[
        ("a status", |t| t[0].status += 1),
        ("a header value", |t| {
            t[1].headers
                .insert("content-type".into(), "text/plain".into());
        }),
        ("a header the reference sends", |t| {
            t[2].headers.insert("location".into(), "/v2/".into());
        }),
        ("a body field", |t| {
            t[0].body["json"]["versions"][0]["status"] = json!("DEPRECATED")
        }),
        ("a body field type", |t| {
            t[2].body["json"]["versions"][3]["id"] = json!(2.1)
        }),
        ("a list order", |t| {
            if let Some(versions) = t[1].body["json"]["versions"].as_array_mut() {
                versions.swap(0, 1);
            }
        }),
        ("a missing body field", |t| {
            if let Some(v) = t[1].body["json"]["versions"][2].as_object_mut() {
                v.remove("links");
            }
        }),
        ("an extra body field", |t| {
            t[0].body["json"]["extra"] = json!(null)
        }),
        ("the body kind", |t| {
            t[0].body = json!({"bytes": 10, "sha256": "00"})
        }),
        ("the step count", |t| {
            t.pop();
        }),
    ];
    for (what, change) in changes {
        let mut changed = expected.clone();
        change(&mut changed);
        assert!(
            changed != expected,
            "changing {what} changes the transcript"
        );
        let outcome = compare(&changed, &actual, false);
        assert!(
            !outcome.problems.is_empty(),
            "changing {what} in the expected transcript goes unnoticed"
        );
        println!("changed {what}: {}", outcome.problems.join(" | "));
    }

    // Error bodies: a title change is a problem; a message change only a note
    // (a problem when strict).
    let error_step = |body| Step {
        step: 0,
        request: "GET /v2/images/x".into(),
        identity: "alice".into(),
        status: 404,
        headers: [(
            "content-type".to_owned(),
            "text/plain;charset=utf-8".to_owned(),
        )]
        .into(),
        body,
    };
    let reference = [error_step(
        json!({"error": "404 Not Found", "message": "404 Not Found No image"}),
    )];
    let same_title = [error_step(
        json!({"error": "404 Not Found", "message": "404 Not Found Gone"}),
    )];
    let other_title = [error_step(
        json!({"error": "403 Forbidden", "message": "404 Not Found No image"}),
    )];
    let lenient = compare(&reference, &same_title, false);
    assert!(lenient.passed() && lenient.notes.len() == 1, "{lenient:?}");
    assert!(!compare(&reference, &same_title, true).passed());
    assert!(!compare(&reference, &other_title, false).passed());
}

/// An API node that holds no database, its records at a registry node of
/// its own (`--registry`): the same scenarios pass through it, strictly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_behind_a_registry_passes_conformance() {
    use glance_mock_server::config::Config;
    use glance_mock_server::registry::{Registry, RegistryServer};
    let runs = PASSING.iter().map(|name| async move {
        let registry = RegistryServer::start(Registry::memory(), ([127, 0, 0, 1], 0).into())
            .await
            .expect("registry starts");
        let mut config = Config::default();
        config
            .use_registry(&registry.url())
            .expect("a registry URL");
        let node = MockServer::builder()
            .config(config)
            .start()
            .await
            .expect("API node starts");
        let outcome = check_in(&conformance::data_dir(), &node.url(), name, true).await;
        // The records are at the registry, not in the node.
        let (at_registry, _) = glance_mock_server::db::registry::connect(&registry.url());
        let held = at_registry
            .images
            .image_scan(true)
            .expect("registry read")
            .len();
        (name, outcome, held)
    });
    let results = futures::future::join_all(runs).await;
    let held: usize = results.iter().map(|(_, _, held)| held).sum();
    assert!(held > 0, "no scenario left an image record at its registry");
    let failures: Vec<String> = results
        .into_iter()
        .filter(|(_, o, _)| !o.passed())
        .map(|(name, o, _)| o.report(name))
        .collect();
    assert!(
        failures.is_empty(),
        "scenarios fail through an API node with a registry:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_passes_conformance() {
    let names =
        conformance::scenario_names(&conformance::scenarios_dir()).expect("scenarios listed");
    for name in PASSING {
        assert!(
            names.iter().any(|n| n == name),
            "PASSING names an unknown scenario {name}"
        );
    }
    // A fresh mock per scenario (they reuse fixed ids); run concurrently, so
    // that scenarios which wait for a state the mock never reaches cost their
    // timeout once, not one after another.
    let runs = names.iter().map(|name| async move {
        let server = MockServer::start().await.expect("mock starts");
        let outcome = check_in(&conformance::data_dir(), &server.url(), name, true).await;
        (name.as_str(), outcome)
    });
    let results = futures::future::join_all(runs).await;
    let mut failures = Vec::new();
    for (name, outcome) in &results {
        if PASSING.contains(name) {
            println!("{}", outcome.report(name));
            if !outcome.passed() {
                failures.push(outcome.report(name));
            }
        } else {
            println!("(not required) {}", summary(name, outcome));
        }
    }
    let passed = results.iter().filter(|(_, o)| o.passed()).count();
    println!(
        "conformance of the mock: {passed} of {} scenarios pass",
        results.len()
    );
    assert!(
        failures.is_empty(),
        "scenarios in PASSING fail against the mock:\n{}",
        failures.join("\n")
    );
}

/// The project's own scenarios (`tests/conformance/own`), recorded from the
/// reference like the shared ones: the mock passes every one, strictly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_passes_own_scenarios() {
    let own = conformance::own_data_dir();
    let names = conformance::scenario_names(&own.join("scenarios")).expect("own scenarios listed");
    for wanted in OWN {
        assert!(
            names.iter().any(|n| n == wanted),
            "own scenario {wanted} is missing"
        );
    }
    let runs = names.iter().map(|name| {
        let own = own.clone();
        async move {
            let server = MockServer::start().await.expect("mock starts");
            let outcome = check_in(&own, &server.url(), name, true).await;
            (name.as_str(), outcome)
        }
    });
    let results = futures::future::join_all(runs).await;
    let failures: Vec<String> = results
        .iter()
        .inspect(|(name, outcome)| println!("{}", outcome.report(name)))
        .filter(|(_, outcome)| !outcome.passed())
        .map(|(name, outcome)| outcome.report(name))
        .collect();
    assert!(
        failures.is_empty(),
        "own scenarios fail against the mock:\n{}",
        failures.join("\n")
    );
}

/// The steps without a body whose content type differs from the
/// recording: the shared tool skips this header on such steps ("its content
/// type says nothing"), but Glance 33's is uniform enough to hold the mock
/// to it: `text/html; charset=UTF-8` on its 204s and 202s, none on the two
/// 204s it builds itself (member delete, the download of an image without
/// data).
fn bodiless_type_differences(expected: &[Step], actual: &[Step]) -> Vec<String> {
    expected
        .iter()
        .zip(actual)
        .filter(|(e, a)| e.body.is_null() && e.status == a.status)
        .filter(|(e, a)| e.headers.get("content-type") != a.headers.get("content-type"))
        .map(|(e, a)| {
            format!(
                "step {} ({}): content-type {:?}, recorded {:?}",
                e.step,
                e.request,
                a.headers.get("content-type"),
                e.headers.get("content-type")
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_types_bodiless_answers_as_recorded() {
    let own = conformance::own_data_dir();
    let mut sets = vec![(conformance::data_dir(), PASSING.to_vec())];
    sets.push((own, OWN.to_vec()));
    let runs = sets.iter().flat_map(|(data, names)| {
        names.iter().map(move |name| async move {
            let scenario =
                conformance::Scenario::load(&data.join("scenarios").join(format!("{name}.json")))
                    .expect("scenario loads");
            let expected = load_expected(&data.join("expected"), name).expect("recorded");
            let server = MockServer::start().await.expect("mock starts");
            let actual = run_scenario(&server.url(), name, &scenario)
                .await
                .expect("scenario runs");
            let bodiless = expected.iter().filter(|e| e.body.is_null()).count();
            (
                name,
                bodiless,
                bodiless_type_differences(&expected, &actual),
            )
        })
    });
    let results = futures::future::join_all(runs).await;
    let checked: usize = results.iter().map(|(_, n, _)| n).sum();
    assert!(checked > 20, "only {checked} bodiless steps recorded");
    let differences: Vec<String> = results
        .iter()
        .flat_map(|(name, _, d)| d.iter().map(move |d| format!("{name}: {d}")))
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Own scenarios recorded from a variant of the reference deployment
/// (`tests/conformance/own/variants/NAME/`: `mock.toml` says how the
/// deployment differs, and the mock is started with it; a `files.json`
/// is served on loopback meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_passes_own_variant_scenarios() {
    let variants = conformance::own_data_dir().join("variants");
    let mut checked = 0;
    for entry in std::fs::read_dir(&variants).expect("variants listed") {
        let dir = entry.expect("variant entry").path();
        let toml = std::fs::read_to_string(dir.join("mock.toml")).expect("mock.toml readable");
        let config = glance_mock_server::Config::from_toml(&toml).expect("mock.toml valid");
        let names =
            conformance::scenario_names(&dir.join("scenarios")).expect("variant scenarios listed");
        let _files = conformance::serve_dir(&dir)
            .await
            .expect("files.json served");
        for name in &names {
            let server = MockServer::builder()
                .config(config.clone())
                .start()
                .await
                .expect("mock starts");
            let outcome = check_in(&dir, &server.url(), name, true).await;
            println!("{}", outcome.report(name));
            assert!(outcome.passed(), "{}", outcome.report(name));
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no variant scenarios in {}",
        variants.display()
    );
}

#[tokio::test]
#[ignore = "needs a real Glance that starts empty (GLANCE_CONFORMANCE_TARGET)"]
async fn reference_server_conformance() {
    let target = std::env::var("GLANCE_CONFORMANCE_TARGET")
        .expect("set GLANCE_CONFORMANCE_TARGET=http://HOST:PORT (a server that starts empty)");
    let strict =
        std::env::var("GLANCE_CONFORMANCE_STRICT").is_ok_and(|v| !v.is_empty() && v != "0");
    let names =
        conformance::scenario_names(&conformance::scenarios_dir()).expect("scenarios listed");
    let mut failed = Vec::new();
    let mut notes = 0;
    let own = conformance::own_data_dir();
    let own_names =
        conformance::scenario_names(&own.join("scenarios")).expect("own scenarios listed");
    // In name order against one server, as the Python tool runs them; the
    // project's own scenarios after the shared ones.
    let all = names
        .iter()
        .map(|n| (conformance::data_dir(), n))
        .chain(own_names.iter().map(|n| (own.clone(), n)));
    for (data, name) in all {
        let outcome = check_in(&data, &target, name, strict).await;
        println!("{}", outcome.report(name));
        notes += outcome.notes.len();
        if !outcome.passed() {
            failed.push(name.as_str());
        }
    }
    if notes > 0 {
        println!(
            "{notes} error messages differ from the reference (they fail only with GLANCE_CONFORMANCE_STRICT=1)"
        );
    }
    let total = names.len() + own_names.len();
    println!(
        "reference conformance: {} of {total} scenarios pass",
        total - failed.len(),
    );
    assert!(
        failed.is_empty(),
        "scenarios failing against {target}: {failed:?}"
    );
}
