//! One path for 组团式 报到接收: the same action done through a page (form POST with CSRF) and through the JSON API
//! writes the same rows and the same audit entries, because both handlers call the same use case.
//! Covered: a unit registration submitted and accepted, a resource created, a pairing agreement drafted.

use serde_json::{Value, json};
use shanzhi_domain::role::Scope;

use crate::both;
use crate::support::{Db, PASSWORD, TestApp, two_towns};

async fn unit_id(app: &TestApp, name: &str) -> i64 {
    app.store
        .unit_options(&Scope::Everything)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.1 == name)
        .unwrap()
        .0
}

async fn place_id(app: &TestApp, code: &str) -> i64 {
    app.store.place_by_code(code).await.unwrap().unwrap().id
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = app
        .api()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A signed-in browser and its CSRF token.
async fn browser(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let b = app.browser();
    let (status, _) = app.web_login(&b, user, PASSWORD).await;
    assert_eq!(status, 303, "web login {user}");
    let csrf = app.csrf(&b).await;
    (b, csrf)
}

/// Posts a form; returns the status and the redirect location (or the body).
async fn form(
    app: &TestApp,
    b: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let res = b.post(app.url(path)).form(fields).send().await.unwrap();
    let status = res.status().as_u16();
    let loc = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    (status, loc.unwrap_or(body))
}

/// The id in a redirect like `/pairings/12?ok=created`.
fn id_in(loc: &str, prefix: &str) -> i64 {
    loc.trim_start_matches(prefix)
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The audit entries about one target (`kind:id`), oldest first, as `action|result|actor|role|kind`.
async fn audit_of(app: &TestApp, kind: &str, id: i64) -> Vec<String> {
    app.db
        .raw_strings(&format!(
            "SELECT action || '|' || result || '|' || actor || '|' || COALESCE(role, '') || '|{kind}' \
             FROM audit_log WHERE target = '{kind}:{id}' ORDER BY id"
        ))
        .await
}

/// A JSON record without the keys that differ between two equivalent records (ids, times, places).
fn without(mut v: Value, keys: &[&str]) -> Value {
    let o = v.as_object_mut().unwrap();
    for k in keys {
        assert!(o.remove(*k).is_some(), "no field {k} in {o:?}");
    }
    v
}

async fn unit_registration_submit_and_accept(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let fanjia = place_id(&app, "a1").await.to_string();
    let jiaxiao = place_id(&app, "b1").await.to_string();
    let fields = [
        ("contact_name", "张医生"),
        ("contact_phone", "13912345678"),
        ("note", "健康义诊、健康讲座"),
    ];

    // The page: 单位乙一 registers with 甲一村, which accepts it.
    let (unit_b, unit_csrf) = browser(&app, "unit_admin_b1").await;
    let mut f = vec![("_csrf", unit_csrf.as_str()), ("place_id", fanjia.as_str())];
    f.extend(fields);
    let (status, loc) = form(&app, &unit_b, "/unit-registrations/new", &f).await;
    assert_eq!(status, 303, "{loc}");
    let by_page = id_in(&loc, "/unit-registrations/");
    let (c_b, c_csrf) = browser(&app, "community_admin_a1").await;
    let (status, loc) = form(
        &app,
        &c_b,
        &format!("/unit-registrations/{by_page}/accept"),
        &[("_csrf", &c_csrf)],
    )
    .await;
    assert_eq!(status, 303, "{loc}");

    // The API: the same unit registers with 乙一村, which accepts it.
    let unit_t = app.token("unit_admin_b1").await;
    let mut body = json!({"place_id": jiaxiao});
    for (k, v) in fields {
        body[k] = json!(v);
    }
    let (status, created) = post(&app, &unit_t, "/api/v1/unit-registrations", body).await;
    assert_eq!(status, 201, "{created}");
    let by_api = created["id"].as_i64().unwrap();
    let jx_t = app.token("community_admin_b1").await;
    let (status, accepted) = post(
        &app,
        &jx_t,
        &format!("/api/v1/unit-registrations/{by_api}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");

    // The same rows, apart from the place and who decided when.
    let differ = [
        "id",
        "place_id",
        "place_name",
        "place_path",
        "submitted_at",
        "decided_at",
        "decided_by",
        "updated_at",
    ];
    let (_, a) = app
        .get_json(&unit_t, &format!("/api/v1/unit-registrations/{by_page}"))
        .await;
    let (_, b) = app
        .get_json(&unit_t, &format!("/api/v1/unit-registrations/{by_api}"))
        .await;
    assert_eq!(a["status"], "accepted");
    // Who decided is shown by display name, never by login name.
    for (row, username) in [(&a, "community_admin_a1"), (&b, "community_admin_b1")] {
        let account = app.store.find_login(username).await.unwrap().unwrap();
        assert_eq!(row["decided_by"], account.display_name.as_str());
    }
    assert_eq!(without(a, &differ), without(b, &differ));

    // The same audit entries (the reviewers differ only by name).
    let page_log = audit_of(&app, "unit_registration", by_page).await;
    let api_log = audit_of(&app, "unit_registration", by_api).await;
    assert_eq!(
        page_log,
        [
            "unit_registration.submit|ok|unit_admin_b1|unit_admin|unit_registration",
            "unit_registration.accept|ok|community_admin_a1|community_admin|unit_registration",
        ]
    );
    assert_eq!(
        api_log,
        [
            "unit_registration.submit|ok|unit_admin_b1|unit_admin|unit_registration",
            "unit_registration.accept|ok|community_admin_b1|community_admin|unit_registration",
        ]
    );
}
both!(unit_registration_submit_and_accept);

async fn resource_create(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let weijian = unit_id(&app, "单位乙一").await;
    let fields = [
        ("title", "健康义诊"),
        ("capacity", "20"),
        ("schedule", "每月第二个周六上午"),
        ("description", "血压、血糖测量"),
    ];
    let path = format!("/units/{weijian}/resources");

    let (b, csrf) = browser(&app, "unit_admin_b1").await;
    let mut f = vec![("_csrf", csrf.as_str())];
    f.extend(fields);
    let (status, loc) = form(&app, &b, &path, &f).await;
    assert_eq!(status, 303, "{loc}");
    assert!(loc.ends_with("?ok=saved"), "{loc}");

    let t = app.token("unit_admin_b1").await;
    let mut body = json!({});
    for (k, v) in fields {
        body[k] = json!(v);
    }
    let (status, created) = post(&app, &t, &format!("/api/v1{path}"), body).await;
    assert_eq!(status, 201, "{created}");
    let by_api = created["id"].as_i64().unwrap();

    // Both are listed (by title, then id: the page's first), the same apart from id and times.
    let (status, list) = app.get_json(&t, &format!("/api/v1{path}")).await;
    assert_eq!(status, 200);
    let both: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["title"] == "健康义诊")
        .cloned()
        .collect();
    assert_eq!(both.len(), 2, "{list}");
    let by_page = both[0]["id"].as_i64().unwrap();
    assert_eq!(both[1]["id"], by_api);
    let differ = ["id", "created_at", "updated_at"];
    assert_eq!(
        without(both[0].clone(), &differ),
        without(both[1].clone(), &differ)
    );

    let expected = ["resource.save|ok|unit_admin_b1|unit_admin|resource"];
    assert_eq!(audit_of(&app, "resource", by_page).await, expected);
    assert_eq!(audit_of(&app, "resource", by_api).await, expected);
}
both!(resource_create);

async fn pairing_create(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let weijian = unit_id(&app, "单位乙一").await.to_string();
    let fanjia = place_id(&app, "a1").await.to_string();
    let fields = [
        ("unit_id", weijian.as_str()),
        ("community_id", fanjia.as_str()),
        ("term_start", "2026-01-01"),
        ("term_end", "2026-12-31"),
        ("activities_per_quarter", "2"),
        ("targets_note", "每季度两次共建活动"),
    ];

    let (b, csrf) = browser(&app, "community_admin_a1").await;
    let mut f = vec![("_csrf", csrf.as_str())];
    f.extend(fields);
    let (status, loc) = form(&app, &b, "/pairings/new", &f).await;
    assert_eq!(status, 303, "{loc}");
    assert!(loc.ends_with("?ok=created"), "{loc}");
    let by_page = id_in(&loc, "/pairings/");

    let t = app.token("community_admin_a1").await;
    let mut body = json!({});
    for (k, v) in fields {
        body[k] = json!(v);
    }
    let (status, created) = post(&app, &t, "/api/v1/pairings", body).await;
    assert_eq!(status, 201, "{created}");
    let by_api = created["id"].as_i64().unwrap();

    // The same agreement and the same progress, apart from id and times.
    let (_, a) = app
        .get_json(&t, &format!("/api/v1/pairings/{by_page}"))
        .await;
    let (_, b) = app
        .get_json(&t, &format!("/api/v1/pairings/{by_api}"))
        .await;
    assert_eq!(a["pairing"]["status"], "draft");
    assert_eq!(
        without(a["progress"].clone(), &["pairing_id"]),
        without(b["progress"].clone(), &["pairing_id"])
    );
    let differ = ["id", "created_at", "updated_at"];
    assert_eq!(
        without(a["pairing"].clone(), &differ),
        without(b["pairing"].clone(), &differ)
    );

    let expected = ["pairing.create|ok|community_admin_a1|community_admin|pairing"];
    assert_eq!(audit_of(&app, "pairing", by_page).await, expected);
    assert_eq!(audit_of(&app, "pairing", by_api).await, expected);
}
both!(pairing_create);
