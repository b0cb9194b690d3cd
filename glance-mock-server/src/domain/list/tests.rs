use super::filter::sqlite_number;
use super::*;

fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, Fault> {
    let raw: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ListQuery::parse(&raw, 25, 1000)
}

#[test]
fn the_page_is_the_head_of_everything_sorted() {
    let t0 = crate::domain::time::now();
    let mut rng = fastrand::Rng::with_seed(7);
    let records: Vec<Arc<Image>> = (0..60)
        .map(|i| {
            let mut img = Image::new(format!("id-{:02}", rng.u8(..)), None, t0);
            img.id.push_str(&i.to_string());
            img.name = (rng.u8(..4) > 0).then(|| format!("n{}", rng.u8(..5)));
            img.size = (rng.bool()).then(|| rng.u64(..4));
            img.created_at = t0 + time::Duration::seconds(rng.i64(0..3));
            img.updated_at = img.created_at + time::Duration::seconds(rng.i64(0..3));
            Arc::new(img)
        })
        .collect();
    let refs: Vec<&Arc<Image>> = records.iter().collect();
    for sort in [
        vec![],
        vec![("sort", "name:asc,size:desc")],
        vec![("sort_key", "size"), ("sort_dir", "asc")],
        vec![("sort", "updated_at:desc")],
        vec![("sort", "created_at:asc,name:desc,size:asc")],
    ] {
        for limit in ["0", "1", "7", "59", "60", "100"] {
            let mut pairs = sort.clone();
            pairs.push(("limit", limit));
            let query = q(&pairs).expect("parses");
            let mut all = refs.clone();
            all.sort_by(|a, b| query.order(a, b));
            all.truncate(query.limit);
            let page = query.page(refs.clone());
            let ids = |v: &[&Arc<Image>]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&page), ids(&all), "{pairs:?}");
        }
    }
}

#[test]
fn sort_defaults_and_tie_breakers() {
    let query = q(&[]).expect("parses");
    assert_eq!(
        query.sort,
        vec![("created_at".into(), false), ("id".into(), false)]
    );
    let query = q(&[("sort", "name:asc")]).expect("parses");
    assert_eq!(query.sort[0], ("name".into(), true));
    assert_eq!(query.sort[2], ("id".into(), true));
}

#[test]
fn bad_queries_are_400() {
    assert!(q(&[("limit", "-1")]).is_err());
    assert!(q(&[("limit", "abc")]).is_err());
    assert!(q(&[("sort", "nope")]).is_err());
    assert!(q(&[("sort", "name"), ("sort_key", "name")]).is_err());
    assert!(q(&[("size_min", "big")]).is_err());
    assert!(q(&[("name", "gt:x")]).is_err());
    // Any prefix before a colon is an operator, unless the value is a time.
    assert!(q(&[("name", "lq-a:x")]).is_err());
    assert!(q(&[("name", "2000-01-01T00:00:00Z")]).is_ok());
}

fn message(pairs: &[(&str, &str)]) -> String {
    match q(pairs) {
        Err(Fault::BadRequest(m)) => m,
        other => panic!("{pairs:?}: {other:?}"),
    }
}

#[test]
fn errors_come_in_glances_order() {
    // The deserializer checks visibility, then member status, then limit,
    // then sorting; the controller os_hidden; the DB the filters in order.
    let limit = "limit param must be an integer";
    assert!(message(&[("visibility", "x"), ("limit", "x")]).starts_with("Invalid visibility"));
    assert!(message(&[("member_status", "x"), ("limit", "x")]).starts_with("Invalid status"));
    assert_eq!(message(&[("limit", "x"), ("sort", "bogus")]), limit);
    assert!(message(&[("sort", "bogus"), ("os_hidden", "x")]).starts_with("Invalid sort key"));
    assert!(message(&[("name", "gt:x"), ("size_min", "x")]).starts_with("Unable to filter by"));
    assert!(
        message(&[("size_min", "x"), ("name", "gt:x")]).starts_with("Unable to filter on a range")
    );
    // A time's format is checked before its operator.
    assert!(message(&[("updated_at", "bogus:x")]).starts_with("Bad \"updated_at\""));
    assert_eq!(
        message(&[("updated_at", "bogus:2000-01-01T00:00:00Z")]),
        "Unable to filter on a unknown operator."
    );
    for crash in [
        ("changes-since", ""),
        ("properties", "x"),
        ("foo_min", "1"),
        ("locations", "x"),
        ("members", "x"),
    ] {
        assert!(matches!(q(&[crash]), Err(Fault::Internal(_))), "{crash:?}");
    }
}

#[test]
fn repeated_keys_follow_the_multidict() {
    // `pop` takes the first value; the others stay as property filters.
    let parsed = q(&[("limit", "1"), ("limit", "x")]).expect("parses");
    assert_eq!(parsed.limit, 1);
    assert!(matches!(&parsed.filters[..], [Filter::Property(k, v)] if k == "limit" && v == "x"));
    // visibility: the last is checked, the first selects, the rest filter.
    assert!(q(&[("visibility", "bogus"), ("visibility", "public")]).is_ok());
    assert!(q(&[("visibility", "public"), ("visibility", "bogus")]).is_err());
    let parsed = q(&[("visibility", "public"), ("visibility", "private")]).expect("parses");
    assert_eq!(parsed.visibility.as_deref(), Some("public"));
    assert!(
        matches!(&parsed.filters[..], [Filter::Equals(Column::Visibility, v)] if v == "private")
    );
    // Every tag must be there; a `tags` text is one tag per character.
    let parsed = q(&[("tags", "ab")]).expect("parses");
    assert_eq!(parsed.filters.len(), 2);
    assert!(q(&[("tag", "a"), ("tags", "x"), ("tags", "y")]).is_ok());
    // os_hidden and protected: the last value.
    assert!(
        q(&[("os_hidden", "x"), ("os_hidden", "TRUE")])
            .expect("parses")
            .os_hidden
    );
    assert!(q(&[("member_status", "x"), ("member_status", "all")]).is_err());
    assert!(q(&[("member_status", "all"), ("member_status", "x")]).is_ok());
}

#[test]
fn tie_breakers_take_the_one_direction_given() {
    let ties = |pairs: &[(&str, &str)]| q(pairs).expect("parses").sort[2..].to_vec();
    let desc = vec![("created_at".to_string(), false), ("id".to_string(), false)];
    let asc = vec![("created_at".to_string(), true), ("id".to_string(), true)];
    assert_eq!(ties(&[("sort", "status:asc,size:asc")]), desc);
    assert_eq!(
        ties(&[
            ("sort_key", "status"),
            ("sort_key", "size"),
            ("sort_dir", "asc")
        ]),
        asc
    );
    assert_eq!(
        ties(&[
            ("sort_key", "status"),
            ("sort_key", "size"),
            ("sort_dir", "asc"),
            ("sort_dir", "asc")
        ]),
        desc
    );
    // An empty direction is the default; values are stripped.
    assert_eq!(
        q(&[("sort", " name: ")]).expect("parses").sort[0],
        ("name".into(), false)
    );
}

#[test]
fn in_lists_split_like_glance() {
    let split = |s: &str| split_in(s).expect("splits");
    assert_eq!(split(""), Vec::<String>::new());
    assert_eq!(split("a,"), ["a"]);
    assert_eq!(split(",a,,b"), ["", "a", "", "b"]);
    assert_eq!(split("\"a,x\",b"), ["a,x", "b"]);
    assert_eq!(split("\"\""), [""]);
    assert_eq!(split("\"a\\\"b\""), ["a\\\"b"]);
    for (list, why) in [
        ("\"a", "The quote is not closed."),
        ("x\"a\"", "There is no comma before opening quotation mark."),
        ("\"a\"x", "There is no comma after closing quotation mark."),
    ] {
        match split_in(list) {
            Err(Fault::BadRequest(m)) => assert!(m.ends_with(why), "{m}"),
            other => panic!("{list}: {other:?}"),
        }
    }
}

#[test]
fn integer_columns_read_text_as_sqlite_does() {
    assert_eq!(sqlite_number("0100"), Some(100.0));
    assert_eq!(sqlite_number(" 100.0 "), Some(100.0));
    assert_eq!(sqlite_number("1e2"), Some(100.0));
    assert_eq!(sqlite_number("-.5"), Some(-0.5));
    for text in ["", "x", "1x", ".", "inf", "NaN", "1e", "0x10"] {
        assert_eq!(sqlite_number(text), None, "{text}");
    }
}

mod visibility {
    use super::*;
    use crate::domain::image::Member;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn image(id: &str, owner: &str, visibility: Visibility) -> Arc<Image> {
        let mut img = Image::new(id.into(), Some(owner.into()), now());
        img.visibility = visibility;
        Arc::new(img)
    }

    /// alice's images: one of each visibility, `shared-*` shared with
    /// bob in the status the id names.
    fn images() -> Vec<Arc<Image>> {
        let mut all = vec![
            image("public", "alice", Visibility::Public),
            image("community", "alice", Visibility::Community),
            image("private", "alice", Visibility::Private),
            image("shared-none", "alice", Visibility::Shared),
        ];
        for status in ["pending", "accepted", "rejected"] {
            let mut img = Image::new(format!("shared-{status}"), Some("alice".into()), now());
            let mut m = Member::new("bob".into(), now());
            m.status = status.into();
            img.members.push(m);
            all.push(Arc::new(img));
        }
        let mut removed = Image::new("shared-removed".into(), Some("alice".into()), now());
        let mut m = Member::new("bob".into(), now());
        m.status = "accepted".into();
        m.deleted = true;
        removed.members.push(m);
        all.push(Arc::new(removed));
        all
    }

    fn listed(who: &Identity, pairs: &[(&str, &str)]) -> Vec<String> {
        let all = images();
        let page = q(pairs).expect("parses").run_after(who, &all, None);
        let mut ids: Vec<String> = page.images.iter().map(|i| i.id.clone()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn members_list_shared_images_by_member_status() {
        let bob = who("bob", &["member", "reader"]);
        assert_eq!(listed(&bob, &[]), ["public", "shared-accepted"]);
        assert_eq!(
            listed(&bob, &[("member_status", "pending")]),
            ["public", "shared-pending"]
        );
        assert_eq!(
            listed(&bob, &[("member_status", "all"), ("visibility", "shared")]),
            ["shared-accepted", "shared-pending", "shared-rejected"]
        );
        assert_eq!(
            listed(&bob, &[("visibility", "all")]),
            ["community", "public", "shared-accepted"]
        );
    }

    #[test]
    fn owners_and_admins_list_everything_but_others_community_images() {
        let alice = who("alice", &["member", "reader"]);
        assert_eq!(listed(&alice, &[]).len(), 8);
        let admin = who("admin", &["admin"]);
        let all = listed(&admin, &[]);
        assert_eq!(all.len(), 7);
        assert!(!all.contains(&"community".to_string()));
        assert_eq!(listed(&admin, &[("visibility", "all")]).len(), 8);
        let carol = who("carol", &["reader"]);
        assert_eq!(listed(&carol, &[]), ["public"]);
        assert_eq!(
            listed(&carol, &[("visibility", "community")]),
            ["community"]
        );
        assert!(listed(&carol, &[("visibility", "private")]).is_empty());
    }
}

#[test]
fn links_collapse_repeated_keys_like_webob() {
    let pair = [("sort".to_owned(), "name:asc,x y".to_owned())];
    assert_eq!(urlencode(&pair), "sort=name%3Aasc%2Cx+y");
    let c = collapse(&[
        ("tag".into(), "x".into()),
        ("sort".into(), "name".into()),
        ("tag".into(), "all".into()),
    ]);
    assert_eq!(c[0], ("tag".into(), "all".into()));
}
