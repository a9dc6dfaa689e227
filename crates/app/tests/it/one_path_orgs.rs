//! One path for pages and API (units, members, dictionaries): the same write done once through the form and once
//! through the JSON API stores the same row and leaves the same audit entry, because both call one use case.

use serde_json::{Value, json};
use shanzhi_domain::validate::credit_code_check_char;
use shanzhi_store::{AuditFilter, PageReq};

use crate::both;
use crate::support::{Db, PASSWORD, TestApp, two_towns};

fn credit(n: usize) -> String {
    let first = format!("91310114{:09}", n);
    format!("{first}{}", credit_code_check_char(&first).unwrap())
}

/// The id at the end of a redirect such as `/units/12?ok=created`.
fn id_in(location: &str) -> i64 {
    location
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn post_form(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> String {
    let csrf = app.csrf(browser).await;
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = browser
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "POST {path}");
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn send_json(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let res = app
        .api()
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// The audit entry of `action` on `target`, as (action, result, target kind, actor, role).
async fn audit_of(app: &TestApp, action: &str, target: &str) -> (String, String, String, String) {
    let rows = app
        .store
        .list_audit(
            &AuditFilter {
                action: Some(action.to_string()),
                ..Default::default()
            },
            PageReq::new(Some(1), Some(100)),
        )
        .await
        .unwrap()
        .items;
    let found: Vec<_> = rows
        .into_iter()
        .filter(|r| r.action == action && r.target.as_deref() == Some(target))
        .collect();
    assert_eq!(found.len(), 1, "one {action} entry for {target}");
    let r = &found[0];
    let kind = target.split(':').next().unwrap().to_string();
    (
        format!("{} {}", r.action, kind),
        r.result.clone(),
        r.actor.clone(),
        r.role.clone().unwrap_or_default(),
    )
}

/// `v` without the fields that differ by nature between two records.
fn strip(mut v: Value, fields: &[&str]) -> Value {
    for f in fields {
        v.as_object_mut().unwrap().remove(*f);
    }
    v
}

async fn creating_a_unit(db: Db) {
    let (app, _w) = two_towns(db).await;
    let browser = app.browser();
    app.web_login(&browser, "town_admin_a", PASSWORD).await;
    let token = app.token("town_admin_a").await;
    let malu = app.store.place_by_code("ta").await.unwrap().unwrap();
    let place = malu.id.to_string();
    let (c1, c2) = (credit(700_001), credit(700_002));
    let page_id = id_in(
        &post_form(
            &app,
            &browser,
            "/units/new",
            &[
                ("name", "同路单位"),
                ("kind", "soe"),
                ("credit_code", &c1),
                ("place_id", &place),
                ("party_org_name", "同路党支部"),
                ("party_org_level", "branch"),
                ("contact_name", "张三"),
                ("contact_phone", "13812345678"),
            ],
        )
        .await,
    );
    let api_id = send_json(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/units",
        json!({"name": "同路单位", "kind": "soe", "credit_code": c2, "place_id": place,
            "party_org_name": "同路党支部", "party_org_level": "branch",
            "contact_name": "张三", "contact_phone": "13812345678"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (_, from_page) = app
        .get_json(&token, &format!("/api/v1/units/{page_id}"))
        .await;
    let (_, from_api) = app
        .get_json(&token, &format!("/api/v1/units/{api_id}"))
        .await;
    let differ = ["id", "credit_code", "created_at", "updated_at"];
    assert_eq!(strip(from_page, &differ), strip(from_api, &differ));
    assert_eq!(
        audit_of(&app, "unit.create", &format!("unit:{page_id}")).await,
        audit_of(&app, "unit.create", &format!("unit:{api_id}")).await
    );
}
both!(creating_a_unit);

async fn updating_a_member(db: Db) {
    let (app, _w) = two_towns(db).await;
    let browser = app.browser();
    app.web_login(&browser, "town_admin_a", PASSWORD).await;
    let token = app.token("town_admin_a").await;
    let (_, list) = app.get_json(&token, "/api/v1/members?per_page=2").await;
    let members = list["items"].as_array().unwrap();
    let (a, b) = (&members[0], &members[1]);
    let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    // Both move to the same unit and community, get the same skills; numbers left blank are kept.
    let unit = a["unit_id"].to_string();
    let community = a["community_id"].to_string();
    post_form(
        &app,
        &browser,
        &format!("/members/{a_id}/edit"),
        &[
            ("name", "同路党员"),
            ("mobile", ""),
            ("id_card", ""),
            ("unit_id", &unit),
            ("community_id", &community),
            ("skills", "legal"),
            ("skills", "it"),
            ("separated_residence", "on"),
        ],
    )
    .await;
    send_json(
        &app,
        &token,
        reqwest::Method::PUT,
        &format!("/api/v1/members/{b_id}"),
        json!({"name": "同路党员", "mobile": "", "id_card": "", "unit_id": unit,
            "community_id": community, "skills": ["legal", "it"], "separated_residence": true}),
    )
    .await;
    let (_, from_page) = app
        .get_json(&token, &format!("/api/v1/members/{a_id}"))
        .await;
    let (_, from_api) = app
        .get_json(&token, &format!("/api/v1/members/{b_id}"))
        .await;
    assert_eq!(from_page["name"], "同路党员");
    let differ = [
        "id",
        "mobile_masked",
        "id_card_masked",
        "created_at",
        "updated_at",
        "grid_id",
        "grid_name",
        "place_path",
        "card_public",
    ];
    // The record moved only if it lived elsewhere; compare what the edit set.
    let (mut p, mut q) = (strip(from_page, &differ), strip(from_api, &differ));
    for v in [&mut p, &mut q] {
        v.as_object_mut().unwrap().retain(|k, _| {
            [
                "name",
                "unit_id",
                "unit_name",
                "community_id",
                "community_name",
                "skills",
                "separated_residence",
            ]
            .contains(&k.as_str())
        });
    }
    assert_eq!(p, q);
    assert_eq!(
        audit_of(&app, "member.update", &format!("member:{a_id}")).await,
        audit_of(&app, "member.update", &format!("member:{b_id}")).await
    );
}
both!(updating_a_member);

async fn creating_a_dictionary_entry(db: Db) {
    let (app, _w) = two_towns(db).await;
    let browser = app.browser();
    app.web_login(&browser, "district_admin", PASSWORD).await;
    let token = app.token("district_admin").await;
    post_form(
        &app,
        &browser,
        "/dictionaries",
        &[
            ("kind", "skill"),
            ("code", "same_path_a"),
            ("name", "同路技能"),
            ("sort", "7"),
            ("active", "on"),
        ],
    )
    .await;
    send_json(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/dictionaries/skill",
        json!({"code": "same_path_b", "name": "同路技能", "sort": 7, "active": true}),
    )
    .await;
    let (_, entries) = app.get_json(&token, "/api/v1/dictionaries/skill").await;
    let find = |code: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code)
            .cloned()
            .unwrap()
    };
    let differ = ["id", "code"];
    assert_eq!(
        strip(find("same_path_a"), &differ),
        strip(find("same_path_b"), &differ)
    );
    assert_eq!(
        audit_of(&app, "dict.create", "dict:skill:same_path_a").await,
        audit_of(&app, "dict.create", "dict:skill:same_path_b").await
    );
}
both!(creating_a_dictionary_entry);
