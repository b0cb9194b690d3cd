//! Image members (Glance's `image_members.py`): sharing a `shared` image
//! with other projects, which then accept or reject it.
//!
//! Every operation makes Glance's checks in Glance's order, each with
//! Glance's answer:
//!
//! 1. the image exists and the caller can see it (404 `Image <id> not found.`);
//! 2. the image is `shared` (the message depends on the operation);
//! 3. the member policies (`MemberAPIPolicy`: `get_image` first, whose
//!    refusal is webob's bare 404, then the operation's own rule, whose
//!    refusal is a 403);
//! 4. the membership row, looked up among the rows the caller may see
//!    (its own, or every row of an image it owns; all of them for an admin).

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::image::Member;
use super::policy::{self, Rule};
use super::time::format;
use super::{Fault, Identity, Image, Visibility, python};

/// `image_member_quota` default: members per image.
pub const MEMBER_QUOTA: usize = 128;

/// The statuses a membership can have.
pub const STATUSES: [&str; 3] = ["pending", "accepted", "rejected"];

/// A member as `POST /v2/images/{id}/members` names it.
///
/// Glance takes any truthy JSON value: it answers with the value as given
/// (a number stays a number), and its database keeps its text form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMember {
    given: Value,
}

impl NewMember {
    /// `RequestDeserializer.create`: the `member` of the request body
    /// (`None` when the request has no body).
    pub fn from_body(body: Option<&Value>) -> Result<NewMember, Fault> {
        let bad = |m: &str| Fault::BadRequest(m.into());
        match body {
            None => Err(bad("Body expected in request.")),
            Some(Value::Object(obj)) => match obj.get("member") {
                None => Err(bad("Member to be added not specified")),
                Some(v) if !python::truthy(v) => Err(bad("Member can't be empty")),
                Some(v) => Ok(NewMember { given: v.clone() }),
            },
            Some(_) => Err(bad(
                r#"Expected a member in the form: {"member": "image_id"}"#,
            )),
        }
    }

    /// The id the database keeps: the text of a string or number (`true`
    /// is stored as `1`); `None` for a list or an object.
    pub fn stored_id(&self) -> Option<String> {
        match &self.given {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(u8::from(*b).to_string()),
            _ => None,
        }
    }

    /// The member id as Glance's messages print it (Python's `str()`).
    pub fn display(&self) -> String {
        python::str_of(&self.given)
    }

    /// The created membership as the create call answers it: with the
    /// member id as the request gave it.
    pub fn view(&self, image_id: &str, member: &Member) -> Value {
        let mut v = view(image_id, member);
        v["member_id"] = self.given.clone();
        v
    }
}

/// `RequestDeserializer.update`: the `status` of the request body, not yet
/// validated (Glance checks it only after the lookups and policies).
pub fn status_from_body(body: Option<&Value>) -> Result<Value, Fault> {
    let bad = |m: &str| Fault::BadRequest(m.into());
    match body {
        None => Err(bad("Body expected in request.")),
        Some(Value::Object(obj)) => obj
            .get("status")
            .cloned()
            .ok_or_else(|| bad("Status not specified")),
        Some(_) => Err(bad(
            r#"Expected a status in the form: {"status": "status"}"#,
        )),
    }
}

/// A membership as the API shows it.
pub fn view(image_id: &str, member: &Member) -> Value {
    json!({
        "member_id": member.member_id,
        "image_id": image_id,
        "status": member.status,
        "created_at": format(member.created_at),
        "updated_at": format(member.updated_at),
        "schema": "/v2/schemas/member",
    })
}

/// A list of memberships as the API shows it.
pub fn list_view(image_id: &str, members: &[Member]) -> Value {
    json!({
        "members": members.iter().map(|m| view(image_id, m)).collect::<Vec<_>>(),
        "schema": "/v2/schemas/members",
    })
}

/// The member routes' answer for an image the caller cannot see.
pub fn image_not_found(image_id: &str) -> Fault {
    Fault::NotFound(format!("Image {image_id} not found."))
}

fn find_image<'a>(who: &Identity, image: Option<&'a Image>, id: &str) -> Result<&'a Image, Fault> {
    match image {
        Some(img) if policy::can_see(who, img) => Ok(img),
        _ => Err(image_not_found(id)),
    }
}

/// `MemberAPIPolicy`: `get_image` (webob's bare 404 when refused), then
/// `rule` (403 with the policy's message).
fn enforce(who: &Identity, rule: Rule, image: &Image) -> Result<(), Fault> {
    policy::enforce(who, Rule::GetImage, image)?;
    if policy::allows(who, rule, image) {
        Ok(())
    } else {
        Err(rule.refusal())
    }
}

/// `image_member_find` for the caller: an admin sees every row; anyone
/// else the rows of images it owns and its own memberships.
fn rows_for<'a>(who: &Identity, image: &'a Image) -> impl Iterator<Item = &'a Member> + use<'a> {
    let all = who.is_admin() || policy::is_owner(who, image);
    let project = who.project_id.clone();
    image
        .live_members()
        .filter(move |m| all || project.as_deref() == Some(m.member_id.as_str()))
}

/// `_lookup_member`: `get_member`, then the row among those the caller sees.
fn lookup_member<'a>(
    who: &Identity,
    image: &'a Image,
    member_id: &str,
) -> Result<&'a Member, Fault> {
    enforce(who, Rule::GetMember, image)?;
    rows_for(who, image)
        .find(|m| m.member_id == member_id)
        .ok_or_else(|| {
            Fault::NotFound(format!(
                "{member_id} not found in the member list of the image {}.",
                image.id
            ))
        })
}

fn only_shared(image: &Image, refusal: impl FnOnce() -> Fault) -> Result<(), Fault> {
    if image.visibility == Visibility::Shared {
        Ok(())
    } else {
        Err(refusal())
    }
}

/// `GET /v2/images/{id}/members`: the memberships the caller may see.
pub fn list(who: &Identity, image: Option<&Image>, image_id: &str) -> Result<Vec<Member>, Fault> {
    let image = find_image(who, image, image_id)?;
    only_shared(image, || {
        Fault::Forbidden(format!(
            "Not allowed to list members for image {image_id}: Only shared images have members."
        ))
    })?;
    enforce(who, Rule::GetMembers, image)?;
    Ok(rows_for(who, image).cloned().collect())
}

/// `GET /v2/images/{id}/members/{member_id}`. Glance answers every refusal
/// here with 404 (keeping the refusal's message), not to reveal anything.
pub fn show(
    who: &Identity,
    image: Option<&Image>,
    image_id: &str,
    member_id: &str,
) -> Result<Member, Fault> {
    let image = find_image(who, image, image_id)?;
    let found = only_shared(image, || {
        Fault::Forbidden("Only shared images have members.".into())
    })
    .and_then(|()| lookup_member(who, image, member_id));
    match found {
        Ok(m) => Ok(m.clone()),
        Err(Fault::Forbidden(msg)) => Err(Fault::NotFound(msg)),
        Err(other) => Err(other),
    }
}

/// `POST /v2/images/{id}/members`: share `image` with `new` (owner or
/// admin), as a `pending` membership. A removed membership of the same
/// project comes back, keeping its `created_at`.
pub fn add(
    who: &Identity,
    image: &mut Image,
    new: &NewMember,
    now: OffsetDateTime,
) -> Result<Member, Fault> {
    let id = image.id.clone();
    find_image(who, Some(image), &id)?;
    only_shared(image, || {
        Fault::Forbidden(format!("Not allowed to create members for image {id}."))
    })?;
    enforce(who, Rule::AddMember, image)?;
    let attempted = image.live_members().count() + 1;
    if attempted > MEMBER_QUOTA {
        return Err(Fault::TooLarge(format!(
            "Image member limit exceeded for image {id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: {attempted}, Maximum: {MEMBER_QUOTA}:"
        )));
    }
    let Some(member_id) = new.stored_id() else {
        return Err(Fault::internal());
    };
    if rows_for(who, image).any(|m| m.member_id == member_id) {
        return Err(Fault::Conflict(format!(
            "Member {} is duplicated for image {id}",
            new.display()
        )));
    }
    let revived = image
        .members
        .iter_mut()
        .find(|m| m.deleted && m.member_id == member_id);
    let member = match revived {
        Some(row) => {
            row.status = "pending".into();
            row.updated_at = now;
            row.deleted = false;
            row.clone()
        }
        None => {
            let row = Member::new(member_id, now);
            image.members.push(row.clone());
            row
        }
    };
    Ok(member)
}

/// `PUT /v2/images/{id}/members/{member_id}`: the member project (or an
/// admin) sets its status. Setting the status it already has changes
/// nothing, not even `updated_at`.
pub fn set_status(
    who: &Identity,
    image: &mut Image,
    member_id: &str,
    status: &Value,
    now: OffsetDateTime,
) -> Result<Member, Fault> {
    let id = image.id.clone();
    find_image(who, Some(image), &id)?;
    only_shared(image, || {
        Fault::Forbidden(format!("Not allowed to update members for image {id}."))
    })?;
    lookup_member(who, image, member_id)?;
    enforce(who, Rule::ModifyMember, image)?;
    let status = status
        .as_str()
        .filter(|s| STATUSES.contains(s))
        .ok_or_else(|| {
            Fault::BadRequest(
                r#"Incorrect request: Status must be "pending", "accepted" or "rejected"."#.into(),
            )
        })?;
    let row = image
        .members
        .iter_mut()
        .find(|m| !m.deleted && m.member_id == member_id)
        .ok_or_else(|| image_not_found(&id))?;
    if row.status != status {
        row.status = status.to_owned();
        row.updated_at = now;
    }
    Ok(row.clone())
}

/// `DELETE /v2/images/{id}/members/{member_id}`: the owner (or an admin)
/// ends a membership.
pub fn remove(who: &Identity, image: &mut Image, member_id: &str) -> Result<(), Fault> {
    let id = image.id.clone();
    find_image(who, Some(image), &id)?;
    only_shared(image, || {
        Fault::Forbidden(format!("Not allowed to delete members for image {id}."))
    })?;
    lookup_member(who, image, member_id)?;
    enforce(who, Rule::DeleteMember, image)?;
    if let Some(row) = image
        .members
        .iter_mut()
        .find(|m| !m.deleted && m.member_id == member_id)
    {
        row.deleted = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::Duration;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn alice() -> Identity {
        who("alice", &["member", "reader"])
    }

    fn bob() -> Identity {
        who("bob", &["member", "reader"])
    }

    fn shared() -> Image {
        Image::new(
            "img".into(),
            Some("alice".into()),
            crate::domain::time::now(),
        )
    }

    fn new(member: Value) -> NewMember {
        NewMember::from_body(Some(&json!({ "member": member }))).expect("valid body")
    }

    fn with_members(projects: &[&str]) -> Image {
        let mut img = shared();
        let now = img.created_at;
        for p in projects {
            add(&alice(), &mut img, &new(json!(p)), now).expect("added");
        }
        img
    }

    #[test]
    fn create_body_is_checked_like_glance() {
        let err = |body: Option<Value>| NewMember::from_body(body.as_ref()).expect_err("refused");
        assert_eq!(
            err(None),
            Fault::BadRequest("Body expected in request.".into())
        );
        assert_eq!(
            err(Some(json!({"x": 1}))),
            Fault::BadRequest("Member to be added not specified".into())
        );
        for empty in [json!(""), json!(null), json!(0), json!(false)] {
            assert_eq!(
                err(Some(json!({ "member": empty }))),
                Fault::BadRequest("Member can't be empty".into())
            );
        }
        assert!(
            matches!(err(Some(json!(["bob"]))), Fault::BadRequest(m) if m.starts_with("Expected a member"))
        );
        assert_eq!(new(json!(5)).stored_id().as_deref(), Some("5"));
        assert_eq!(new(json!(true)).stored_id().as_deref(), Some("1"));
        assert_eq!(new(json!([1])).stored_id(), None);
    }

    #[test]
    fn owner_adds_pending_members_once() {
        let mut img = with_members(&["bob"]);
        assert_eq!(
            img.member("bob").map(|m| m.status.as_str()),
            Some("pending")
        );
        let now = img.created_at;
        assert_eq!(
            add(&alice(), &mut img, &new(json!("bob")), now),
            Err(Fault::Conflict(
                "Member bob is duplicated for image img".into()
            ))
        );
        // a number names the same project as its text
        let mut img = with_members(&["5"]);
        assert_eq!(
            add(&alice(), &mut img, &new(json!(5)), now),
            Err(Fault::Conflict(
                "Member 5 is duplicated for image img".into()
            ))
        );
    }

    #[test]
    fn only_shared_images_have_members() {
        let mut img = shared();
        img.visibility = Visibility::Private;
        let now = img.created_at;
        assert_eq!(
            add(&alice(), &mut img, &new(json!("bob")), now),
            Err(Fault::Forbidden(
                "Not allowed to create members for image img.".into()
            ))
        );
        assert_eq!(
            list(&alice(), Some(&img), "img"),
            Err(Fault::Forbidden(
                "Not allowed to list members for image img: Only shared images have members."
                    .into()
            ))
        );
        assert_eq!(
            show(&alice(), Some(&img), "img", "bob"),
            Err(Fault::NotFound("Only shared images have members.".into()))
        );
    }

    #[test]
    fn quota_is_checked_before_duplicates() {
        let projects: Vec<String> = (0..MEMBER_QUOTA).map(|i| format!("p{i}")).collect();
        let refs: Vec<&str> = projects.iter().map(String::as_str).collect();
        let mut img = with_members(&refs);
        let now = img.created_at;
        assert_eq!(
            add(&alice(), &mut img, &new(json!("p0")), now),
            Err(Fault::TooLarge(format!(
                "Image member limit exceeded for image img: The limit has been exceeded on the number of allowed image members for this image. Attempted: 129, Maximum: {MEMBER_QUOTA}:"
            )))
        );
    }

    #[test]
    fn members_see_only_their_own_row() {
        let img = with_members(&["bob", "carol"]);
        assert_eq!(list(&alice(), Some(&img), "img").expect("owner").len(), 2);
        let rows = list(&bob(), Some(&img), "img").expect("member");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].member_id, "bob");
        assert_eq!(
            show(&bob(), Some(&img), "img", "carol"),
            Err(Fault::NotFound(
                "carol not found in the member list of the image img.".into()
            ))
        );
        assert_eq!(
            list(&who("dave", &["member", "reader"]), Some(&img), "img"),
            Err(image_not_found("img"))
        );
        assert_eq!(
            list(&who("bob", &["member"]), Some(&img), "img"),
            Err(Fault::NotFound(policy::NOT_FOUND_DEFAULT.into()))
        );
    }

    #[test]
    fn only_the_member_sets_its_status() {
        let mut img = with_members(&["bob", "carol"]);
        let later = img.created_at + Duration::seconds(3);
        assert_eq!(
            set_status(&alice(), &mut img, "bob", &json!("accepted"), later),
            Err(Rule::ModifyMember.refusal())
        );
        assert_eq!(
            set_status(&bob(), &mut img, "carol", &json!("accepted"), later),
            Err(Fault::NotFound(
                "carol not found in the member list of the image img.".into()
            ))
        );
        assert!(matches!(
            set_status(&bob(), &mut img, "bob", &json!("maybe"), later),
            Err(Fault::BadRequest(m)) if m.starts_with("Incorrect request: Status must be")
        ));
        let m = set_status(&bob(), &mut img, "bob", &json!("accepted"), later).expect("set");
        assert_eq!((m.status.as_str(), m.updated_at), ("accepted", later));
        // the same status again is no change
        let m = set_status(
            &bob(),
            &mut img,
            "bob",
            &json!("accepted"),
            later + Duration::seconds(1),
        )
        .expect("set");
        assert_eq!(m.updated_at, later);
    }

    #[test]
    fn removed_members_come_back_pending_with_their_creation_time() {
        let mut img = with_members(&["bob", "carol"]);
        let created = img.created_at;
        let later = created + Duration::seconds(9);
        set_status(&bob(), &mut img, "bob", &json!("accepted"), later).expect("accepted");
        assert_eq!(
            remove(&bob(), &mut img, "bob"),
            Err(Rule::DeleteMember.refusal())
        );
        remove(&alice(), &mut img, "bob").expect("removed");
        assert!(img.member("bob").is_none());
        assert!(!policy::can_see(&bob(), &img));
        let m = add(&alice(), &mut img, &new(json!("bob")), later).expect("re-added");
        assert_eq!(m.status, "pending");
        assert_eq!((m.created_at, m.updated_at), (created, later));
        let order: Vec<String> = list(&alice(), Some(&img), "img")
            .expect("listed")
            .into_iter()
            .map(|m| m.member_id)
            .collect();
        assert_eq!(order, ["bob", "carol"]);
    }

    #[test]
    fn views_have_glance_shape() {
        let img = with_members(&["bob"]);
        let member = img.member("bob").expect("member");
        let v = view("img", member);
        assert_eq!(v["schema"], "/v2/schemas/member");
        assert_eq!(v["image_id"], "img");
        assert_eq!(new(json!(5)).view("img", member)["member_id"], json!(5));
        assert_eq!(list_view("img", &[])["schema"], "/v2/schemas/members");
    }
}
