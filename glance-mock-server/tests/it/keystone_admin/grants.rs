//! Role grants on projects and on the system, Glance's answers to
//! system-scoped tokens, and the identities across a reset and a dump.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Shim, not_found, policy, provision, roles_member};

#[tokio::test]
async fn grants_on_projects_and_on_the_system() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let demo = shim.login("demo", "demo").await;
    let (project, user, _) = provision(&shim, &admin, "granted", "member").await;
    let (_, roles) = shim.get("/roles?name=reader", &admin).await;
    let reader = roles["roles"][0]["id"].as_str().expect("id").to_owned();
    let (_, roles) = shim.get("/roles?name=admin", &admin).await;
    let admin_role = roles["roles"][0]["id"].as_str().expect("id").to_owned();

    let on_project = format!("/projects/{project}/users/{user}/roles/{reader}");
    let (status, missing) = shim.get(&on_project, &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing["error"]["message"],
        json!(format!(
            "Could not find role assignment with role: {reader}, user or group: {user}, project, domain, or system: {project}."
        ))
    );
    assert_eq!(
        shim.call(Method::PUT, &on_project, Some(&demo), None).await,
        (StatusCode::FORBIDDEN, policy("create_grant"))
    );
    for _ in 0..2 {
        assert_eq!(
            shim.call(Method::PUT, &on_project, Some(&admin), None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        shim.get(&on_project, &admin).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, direct) = shim
        .get(&format!("/projects/{project}/users/{user}/roles"), &admin)
        .await;
    assert_eq!(direct["roles"].as_array().map(Vec::len), Some(2));
    for (path, what, id) in [
        (
            format!("/projects/nope/users/{user}/roles/{reader}"),
            "project",
            "nope",
        ),
        (
            format!("/projects/{project}/users/nope/roles/{reader}"),
            "user",
            "nope",
        ),
        (
            format!("/projects/{project}/users/{user}/roles/nope"),
            "role",
            "nope",
        ),
    ] {
        assert_eq!(
            shim.call(Method::PUT, &path, Some(&admin), None).await,
            (StatusCode::NOT_FOUND, not_found(what, id))
        );
    }

    // On the system: the grant makes system-scoped tokens possible.
    assert!(
        shim.token(
            json!({"id": user}),
            "pw",
            Some(json!({"system": {"all": true}}))
        )
        .await
        .is_none()
    );
    let on_system = format!("/system/users/{user}/roles/{admin_role}");
    assert_eq!(
        shim.call(Method::PUT, &on_system, Some(&demo), None).await,
        (
            StatusCode::FORBIDDEN,
            policy("create_system_grant_for_user")
        )
    );
    assert_eq!(
        shim.call(Method::PUT, &on_system, Some(&admin), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(shim.get(&on_system, &admin).await.0, StatusCode::NO_CONTENT);
    let system = shim
        .token(
            json!({"id": user, "domain": {"id": "default"}}),
            "pw",
            Some(json!({"system": {"all": true}})),
        )
        .await
        .expect("system token");
    // A system admin administers identities...
    assert_eq!(shim.get("/users", &system).await.0, StatusCode::OK);

    // role_assignments: filters, effective roles, names.
    let (status, all) = shim
        .get(&format!("/role_assignments?user.id={user}"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["role_assignments"].as_array().map(Vec::len), Some(3));
    let (_, sys) = shim
        .get(
            &format!("/role_assignments?user.id={user}&scope.system=all"),
            &system,
        )
        .await;
    assert_eq!(
        sys["role_assignments"][0]["scope"],
        json!({"system": {"all": true}})
    );
    let (_, eff) = shim
        .get(
            &format!("/role_assignments?scope.project.id={project}&effective"),
            &admin,
        )
        .await;
    assert_eq!(
        eff["role_assignments"].as_array().map(Vec::len),
        Some(3),
        "member and reader as granted, then the reader member implies (listed again, as Keystone does)"
    );
    let implied = &eff["role_assignments"][2];
    assert_eq!(implied["role"]["id"], json!(reader));
    assert!(
        implied["links"]["prior_role"]
            .as_str()
            .is_some_and(|l| l.ends_with(&format!(
                "/prior_role/{reader}/implies/{}",
                roles_member(&direct)
            ))),
        "{implied}"
    );
    let (_, named) = shim
        .get(
            &format!("/role_assignments?user.id={user}&include_names"),
            &admin,
        )
        .await;
    assert_eq!(named["role_assignments"][0]["user"]["name"], "granted");
    assert_eq!(
        shim.get("/role_assignments", &demo).await,
        (StatusCode::FORBIDDEN, policy("list_role_assignments"))
    );

    assert_eq!(
        shim.call(Method::DELETE, &on_system, Some(&admin), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        shim.get("/users", &system).await.0,
        StatusCode::UNAUTHORIZED,
        "its token went with the grant"
    );
    assert_eq!(
        shim.call(Method::DELETE, &on_system, Some(&admin), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn glance_answers_system_scoped_tokens_as_glance_33_does() {
    let shim = Shim::start().await;
    let system = shim.system_admin().await;
    let admin = shim.login("admin", "admin").await;
    assert_eq!(shim.images(&system).await, StatusCode::FORBIDDEN);
    let create = |token: String| {
        let req = shim
            .http
            .post(format!("{}/v2/images", shim.server.url()))
            .header("X-Auth-Token", token)
            .json(&json!({"name": "x", "visibility": "public"}));
        async move { req.send().await.expect("create") }
    };
    assert_eq!(create(system.clone()).await.status(), StatusCode::FORBIDDEN);
    let image: Value = create(admin).await.json().await.expect("image");
    let show = shim
        .http
        .get(format!(
            "{}/v2/images/{}",
            shim.server.url(),
            image["id"].as_str().expect("id")
        ))
        .header("X-Auth-Token", &system)
        .send()
        .await
        .expect("show");
    assert_eq!(show.status(), StatusCode::NOT_FOUND);
    let tasks = shim
        .http
        .get(format!("{}/v2/tasks", shim.server.url()))
        .header("X-Auth-Token", &system)
        .send()
        .await
        .expect("tasks");
    assert_eq!(tasks.status(), StatusCode::FORBIDDEN);
    // The token itself says it is system-scoped.
    let resp = shim
        .http
        .get(shim.v3("/auth/tokens"))
        .header("X-Auth-Token", &system)
        .header("X-Subject-Token", &system)
        .send()
        .await
        .expect("validate");
    let body: Value = resp.json().await.expect("token");
    assert_eq!(body["token"]["system"], json!({"all": true}));
    assert!(body["token"].get("project").is_none());
    // demo has no system role.
    assert!(
        shim.token(
            json!({"id": "demo"}),
            "demo-secret",
            Some(json!({"system": {"all": true}}))
        )
        .await
        .is_none()
    );
}

#[tokio::test]
async fn reset_restores_the_configured_identities_and_dumps_carry_them() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let (project, user, token) = provision(&shim, &admin, "dumped", "member").await;
    let url = |p: &str| format!("{}/_mock{p}", shim.server.url());
    let dump: Value = shim
        .http
        .get(url("/state"))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .expect("dump")
        .json()
        .await
        .expect("json");
    let users = &dump["identities"]["users"];
    assert!(
        users
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["id"] == json!(user))),
        "{dump}"
    );
    assert!(
        dump["identities"]["grants"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g["scope"] == json!({"project": project})))
    );

    let resp = shim
        .http
        .post(url("/reset"))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .expect("reset");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        shim.images(&token).await,
        StatusCode::UNAUTHORIZED,
        "created user's token"
    );
    assert_eq!(
        shim.images(&admin).await,
        StatusCode::OK,
        "configured user's token"
    );
    assert_eq!(
        shim.get(&format!("/users/{user}"), &admin).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(shim.get("/users/demo", &admin).await.0, StatusCode::OK);

    // Loading the dump brings them back; a dump without identities means the configured ones.
    let resp = shim
        .http
        .post(url("/state"))
        .header("X-Auth-Token", &admin)
        .json(&dump)
        .send()
        .await
        .expect("seed");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        shim.get(&format!("/users/{user}"), &admin).await.0,
        StatusCode::OK
    );
    assert!(
        shim.token(
            json!({"id": user}),
            "pw",
            Some(json!({"project": {"id": project}}))
        )
        .await
        .is_some()
    );
    let old = json!({"images": [], "tasks": [], "data": []});
    let resp = shim
        .http
        .post(url("/state"))
        .header("X-Auth-Token", &admin)
        .json(&old)
        .send()
        .await
        .expect("old seed");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        shim.get(&format!("/users/{user}"), &admin).await.0,
        StatusCode::NOT_FOUND
    );
}
