//! The visibility matrix: 7 identities x 4 visibilities x 8 operations, each
//! cell equal to what Glance 33 answered (tests/data/visibility-matrix.json,
//! recorded by scripts/record-visibility-matrix.py, whose steps this test
//! repeats against the mock in-process).

use crate::harness::inproc::{App, Who};
use axum::http::{Method, StatusCode};
use glance_mock_server::Config;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Recording {
    identities: std::collections::BTreeMap<String, Identity>,
    data: String,
    cells: Vec<Cell>,
}

#[derive(Debug, Deserialize)]
struct Identity {
    roles: String,
    project: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Cell {
    visibility: String,
    identity: String,
    operation: String,
    status: u16,
    seen: Option<bool>,
}

const MEMBERS: [(&str, &str); 3] = [
    ("member-pending", "pending"),
    ("member-accepted", "accepted"),
    ("member-rejected", "rejected"),
];

struct Matrix {
    app: App,
    rec: Recording,
}

impl Matrix {
    fn who(&self, name: &str) -> Who {
        let id = &self.rec.identities[name];
        // Who holds &'static str; a test-lifetime leak is fine.
        Who {
            roles: String::leak(id.roles.clone()),
            project: String::leak(id.project.clone()),
        }
    }

    async fn must(
        &self,
        want: u16,
        who: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Value {
        let a = self
            .app
            .call(self.who(who), method.clone(), uri, body)
            .await;
        assert_eq!(
            a.status.as_u16(),
            want,
            "setup {method} {uri} as {who}: {}",
            a.text()
        );
        a.json()
    }

    /// As the script: shared, with data and three members, then its visibility.
    async fn image(&self, visibility: &str) -> String {
        let img = self
            .must(
                201,
                "owner",
                Method::POST,
                "/v2/images",
                Some(json!({"name": "vm", "visibility": "shared", "disk_format": "raw", "container_format": "bare"})),
            )
            .await;
        let id = img["id"].as_str().expect("id").to_owned();
        let up = self
            .app
            .upload(self.who("owner"), &id, self.rec.data.clone().into_bytes())
            .await;
        assert_eq!(up.status, StatusCode::NO_CONTENT);
        for (who, status) in MEMBERS {
            let project = self.rec.identities[who].project.clone();
            self.must(
                200,
                "owner",
                Method::POST,
                &format!("/v2/images/{id}/members"),
                Some(json!({"member": project})),
            )
            .await;
            if status != "pending" {
                self.must(
                    200,
                    who,
                    Method::PUT,
                    &format!("/v2/images/{id}/members/{project}"),
                    Some(json!({"status": status})),
                )
                .await;
            }
        }
        if visibility != "shared" {
            self.must(
                200,
                "admin",
                Method::PATCH,
                &format!("/v2/images/{id}"),
                Some(json!([{"op": "replace", "path": "/visibility", "value": visibility}])),
            )
            .await;
        }
        id
    }

    async fn listed(&self, who: &str, id: &str, query: &str) -> (u16, Option<bool>) {
        let mut uri = Some(format!("/v2/images?limit=1000{query}"));
        let mut found = false;
        while let Some(u) = uri {
            let a = self.app.call(self.who(who), Method::GET, &u, None).await;
            let (status, page) = (a.status.as_u16(), a.json());
            if status != 200 {
                return (status, None);
            }
            found |= page["images"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i["id"] == id);
            uri = page["next"].as_str().map(str::to_owned);
        }
        (200, Some(found))
    }

    async fn operate(
        &self,
        who: &str,
        op: &str,
        id: &str,
        visibility: &str,
    ) -> (u16, Option<bool>) {
        let project = self.rec.identities[who].project.clone();
        let image = format!("/v2/images/{id}");
        let status = match op {
            "show" => self
                .app
                .call(self.who(who), Method::GET, &image, None)
                .await
                .status
                .as_u16(),
            "list" => return self.listed(who, id, "").await,
            "list-visibility" => {
                return self
                    .listed(who, id, &format!("&visibility={visibility}"))
                    .await;
            }
            "download" => {
                let a = self
                    .app
                    .call(self.who(who), Method::GET, &format!("{image}/file"), None)
                    .await;
                let (status, body) = (a.status.as_u16(), a.body);
                return (
                    status,
                    (status == 200).then(|| body == self.rec.data.as_bytes()),
                );
            }
            "patch" => self
                .app
                .call(
                    self.who(who),
                    Method::PATCH,
                    &image,
                    Some(json!([{"op": "replace", "path": "/name", "value": "renamed"}])),
                )
                .await
                .status
                .as_u16(),
            "delete" => self
                .app
                .call(self.who(who), Method::DELETE, &image, None)
                .await
                .status
                .as_u16(),
            "add-member" => self
                .app
                .call(
                    self.who(who),
                    Method::POST,
                    &format!("{image}/members"),
                    Some(json!({"member": "vm-newcomer-project"})),
                )
                .await
                .status
                .as_u16(),
            "set-member-status" => self
                .app
                .call(
                    self.who(who),
                    Method::PUT,
                    &format!("{image}/members/{project}"),
                    Some(json!({"status": "accepted"})),
                )
                .await
                .status
                .as_u16(),
            other => panic!("unknown operation {other}"),
        };
        (status, None)
    }
}

const READS: [&str; 4] = ["show", "list", "list-visibility", "download"];

#[tokio::test]
async fn every_cell_matches_glance() {
    let text = include_str!("../data/visibility-matrix.json");
    let rec: Recording = serde_json::from_str(text).expect("recording parses");
    let m = Matrix {
        app: App::new(Config::default()),
        rec,
    };
    let mut differ = Vec::new();
    let mut read_images = std::collections::BTreeMap::new();
    for cell in &m.rec.cells {
        let id = if READS.contains(&cell.operation.as_str()) {
            match read_images.get(&cell.visibility) {
                Some(id) => String::clone(id),
                None => {
                    let id = m.image(&cell.visibility).await;
                    read_images.insert(cell.visibility.clone(), id.clone());
                    id
                }
            }
        } else {
            m.image(&cell.visibility).await
        };
        let (status, seen) = m
            .operate(&cell.identity, &cell.operation, &id, &cell.visibility)
            .await;
        if (status, seen) != (cell.status, cell.seen) {
            differ.push(format!(
                "{} {} {}: Glance {} {:?}, mock {status} {seen:?}",
                cell.visibility, cell.identity, cell.operation, cell.status, cell.seen
            ));
        }
    }
    assert_eq!(m.rec.cells.len(), 224);
    assert!(
        differ.is_empty(),
        "{} of {} cells differ:\n{}",
        differ.len(),
        m.rec.cells.len(),
        differ.join("\n")
    );
}
