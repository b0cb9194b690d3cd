//! The registry driver against a registry node: the repository
//! conformance suites, errors as they travel, the journal, and an
//! unreachable registry.

use super::{Registry, RegistryServer};
use crate::db::conformance;
use crate::db::registry::{self, wire};
use crate::db::{RepoError, Repositories, Row};
use crate::keystone::{Directory, IdentityJournal};

/// A registry node on its own runtime, for synchronous tests.
struct Node {
    server: Option<RegistryServer>,
    runtime: tokio::runtime::Runtime,
}

impl Node {
    fn start(registry: Registry) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(RegistryServer::start(
                registry,
                "127.0.0.1:0".parse().expect("an address"),
            ))
            .expect("the registry starts");
        Node {
            server: Some(server),
            runtime,
        }
    }

    fn url(&self) -> String {
        self.server
            .as_ref()
            .map(RegistryServer::url)
            .unwrap_or_default()
    }

    /// Fresh, empty repositories at this node.
    fn fresh(&self) -> Repositories {
        let (repo, _) = registry::connect(&self.url());
        repo.images.reset().expect("reset");
        repo.tasks.reset().expect("reset");
        repo.metadefs.reset().expect("reset");
        repo
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

#[test]
fn the_registry_driver_passes_the_image_conformance_suite() {
    let node = Node::start(Registry::memory());
    conformance::images::run(&|| node.fresh().images);
}

#[test]
fn the_registry_driver_passes_the_task_conformance_suite() {
    let node = Node::start(Registry::memory());
    conformance::tasks::run(&|| node.fresh().tasks);
}

#[test]
fn the_registry_driver_passes_the_metadef_conformance_suite() {
    let node = Node::start(Registry::memory());
    conformance::metadefs::run(&|| node.fresh().metadefs);
}

#[cfg(feature = "sqlite")]
#[test]
fn the_registry_driver_on_a_database_passes_the_image_conformance_suite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let registry = Registry::open(&dir.path().join("r.sqlite")).expect("opens");
    let node = Node::start(registry);
    conformance::images::run(&|| node.fresh().images);
}

#[test]
fn errors_reach_the_api_node_as_the_registry_raised_them() {
    let node = Node::start(Registry::memory());
    let repo = node.fresh();
    assert_eq!(
        repo.images.image_get("nope", false).map(drop),
        Err(RepoError::not_found(Row::Image, "nope"))
    );
    let image = conformance::images::image("a", "p");
    repo.images.image_create(image.clone()).expect("created");
    assert_eq!(
        repo.images.image_create(image).map(drop),
        Err(RepoError::duplicate(Row::Image, "a"))
    );
}

#[test]
fn a_token_written_through_one_node_is_read_through_another() {
    let node = Node::start(Registry::memory());
    let (_, one) = registry::connect(&node.url());
    let (_, two) = registry::connect(&node.url());
    // Each node first takes what is there.
    assert!(two.changes().directory.is_none());
    let directory = Directory::default();
    one.directory_changed(&directory);
    assert_eq!(two.changes().directory, Some(directory));
    assert!(two.changes().directory.is_none(), "only once");
}

#[test]
fn an_unreachable_registry_is_unavailable_not_missing() {
    let node = Node::start(Registry::memory());
    let url = node.url();
    drop(node);
    let (repo, journal) = registry::connect(&url);
    for result in [
        repo.images.image_get("a", false).map(drop),
        repo.images.image_scan(false).map(drop),
        repo.tasks.task_scan().map(drop),
        repo.metadefs.snapshot().map(drop),
    ] {
        assert!(
            matches!(result, Err(RepoError::Unavailable(_))),
            "{result:?}"
        );
    }
    assert_eq!(
        repo.metadefs.transaction(&mut |_| Ok(())),
        Err(crate::domain::Fault::unavailable())
    );
    // The journal logs and goes on.
    assert!(journal.changes().tokens.is_empty());
}

#[test]
fn a_bad_body_or_an_unknown_command_is_a_400() {
    let node = Node::start(Registry::memory());
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{}/rpc", node.url());
    for body in [
        "{}",
        "[{\"command\": \"drop_database\", \"kwargs\": {}}]",
        "[{\"command\": \"image_get\", \"kwargs\": {\"id\": 1}}]",
    ] {
        let resp = agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body)
            .expect("answered");
        assert_eq!(resp.status(), 400, "{body}");
    }
    let mut resp = agent
        .post(&url)
        .send("[{\"command\": \"image_get\", \"kwargs\": {\"image_id\": \"x\"}}, {\"command\": \"image_generation\", \"kwargs\": {}}]")
        .expect("answered");
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&resp.body_mut().read_to_vec().expect("a body")).expect("json");
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(
        results[0][wire::ERROR_KEY]["cls"],
        "glance.common.exception.NotFound"
    );
    assert!(results[1].is_u64());
}
