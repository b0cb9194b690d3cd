//! Image members: the projects a `shared` image is shared with
//! (`client.members()`).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::Client;
use crate::error::Result;
use crate::macros::string_enum;
use crate::transport::RequestSpec;

string_enum! {
    /// A member's answer to a share.
    MemberStatus {
        /// Not answered yet (new members start here).
        Pending = "pending",
        /// Accepted: the image shows in the member's default list.
        Accepted = "accepted",
        /// Declined.
        Rejected = "rejected",
    }
}

/// One member of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The member project.
    pub member_id: String,
    /// The shared image.
    pub image_id: String,
    /// The member's answer.
    pub status: MemberStatus,
    /// When the share was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the status last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Link to the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

#[derive(Deserialize)]
struct MemberList {
    members: Vec<Member>,
}

/// Member calls. Get one with [`Client::members`].
///
/// Only `shared` images have members. The owner (or an admin) adds and
/// removes members; each member project accepts or rejects the share.
///
/// ```no_run
/// # async fn demo(owner: glance_client::Client, member: glance_client::Client, id: &str)
/// # -> glance_client::Result<()> {
/// use glance_client::MemberStatus;
/// owner.members().create(id, "project-b").await?;
/// member.members().update(id, "project-b", MemberStatus::Accepted).await?;
/// for m in owner.members().list(id).await? {
///     println!("{} {}", m.member_id, m.status);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    client: &'a Client,
}

impl Client {
    /// Image member calls: list, get, create, update status, delete.
    pub fn members(&self) -> Members<'_> {
        Members { client: self }
    }
}

fn member_spec(method: Method, image_id: &str, member_id: &str) -> RequestSpec {
    RequestSpec::new(method, ["v2", "images", image_id, "members", member_id])
}

impl Members<'_> {
    /// `GET /v2/images/{id}/members`: every member (owner, admin), or only
    /// the caller's own entry (a member).
    pub async fn list(&self, image_id: &str) -> Result<Vec<Member>> {
        let spec = RequestSpec::new(Method::GET, ["v2", "images", image_id, "members"]);
        let list: MemberList = self.client.send_json(spec).await?;
        Ok(list.members)
    }

    /// `GET /v2/images/{id}/members/{member}`.
    pub async fn get(&self, image_id: &str, member_id: &str) -> Result<Member> {
        self.client
            .send_json(member_spec(Method::GET, image_id, member_id))
            .await
    }

    /// `POST /v2/images/{id}/members` with `{"member": …}`: share the image
    /// with a project (status `pending`). 409 if it is a member already.
    /// Never retried.
    pub async fn create(&self, image_id: &str, member_id: &str) -> Result<Member> {
        crate::transport::check_param("member id", member_id)?;
        let spec = RequestSpec::new(Method::POST, ["v2", "images", image_id, "members"])
            .json_body(&json!({ "member": member_id }), "application/json");
        self.client.send_json(spec).await
    }

    /// `PUT /v2/images/{id}/members/{member}` with `{"status": …}`: the
    /// member's answer (only the member itself or an admin may give it).
    pub async fn update(
        &self,
        image_id: &str,
        member_id: &str,
        status: MemberStatus,
    ) -> Result<Member> {
        let spec = member_spec(Method::PUT, image_id, member_id)
            .json_body(&json!({ "status": status }), "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE /v2/images/{id}/members/{member}`: stop sharing with it.
    pub async fn delete(&self, image_id: &str, member_id: &str) -> Result<()> {
        self.client
            .send_unit(member_spec(Method::DELETE, image_id, member_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_glance_member() {
        let m: Member = serde_json::from_str(
            r#"{"member_id": "p2", "image_id": "i", "status": "pending",
                "created_at": "2026-11-22T04:09:42Z", "updated_at": "2026-11-22T04:09:42Z",
                "schema": "/v2/schemas/member"}"#,
        )
        .expect("decodes");
        assert_eq!(m.status, MemberStatus::Pending);
        let odd: MemberStatus = serde_json::from_str("\"all\"").expect("decodes");
        assert_eq!(odd, MemberStatus::Other("all".into()));
    }
}
