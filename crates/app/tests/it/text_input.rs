//! The one text rule at every edge (`shanzhi_domain::text`): a NUL or another control character in a JSON body, a
//! query string, a page form or an imported cell answers 4xx `invalid_characters` and stores nothing — on
//! PostgreSQL too, where it used to be a 500, and on SQLite, where it used to be stored. Text is stored NFC and
//! trimmed; passwords are not trimmed.

use shanzhi_domain::Code;
use shanzhi_domain::org::PlaceInput;
use shanzhi_domain::role::Scope;
use shanzhi_store::orgs::MemberFilter;
use shanzhi_store::{Actor, PageReq, StoreError};

use crate::both;
use crate::support::{Db, PASSWORD, TestApp, two_towns};

const MESSAGE: &str = "内容含有不允许的字符";

async fn send_json(
    app: &TestApp,
    method: reqwest::Method,
    token: Option<&str>,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut req = app
        .api()
        .request(method, app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

fn assert_invalid(status: u16, body: &serde_json::Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(
        body["error"]["code"], "invalid_characters",
        "{what}: {body}"
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains(MESSAGE),
        "{what}: {body}"
    );
}

async fn place_name(app: &TestApp, token: &str, path: &str) -> String {
    let (status, place) = app.get_json(token, path).await;
    assert_eq!(status, 200, "{place}");
    place["name"].as_str().unwrap().to_string()
}

async fn members_total(app: &TestApp) -> i64 {
    app.store
        .list_members(
            &Scope::Everything,
            &MemberFilter::default(),
            PageReq::default(),
        )
        .await
        .unwrap()
        .total
}

async fn nul_bytes_are_refused_at_every_edge(db: Db) {
    let (app, w) = two_towns(db).await;
    let audit_before = app
        .store
        .list_audit(&Default::default(), PageReq::new(Some(1), Some(1)))
        .await
        .unwrap()
        .total;

    // Before login: the JSON body of the login itself.
    let (status, body) = send_json(
        &app,
        reqwest::Method::POST,
        None,
        "/api/v1/auth/login",
        &serde_json::json!({"username": format!("{}\u{0}", w.district_admin.username), "password": "x"}).to_string(),
    )
    .await;
    assert_invalid(status, &body, "login username");
    let (status, body) = send_json(
        &app,
        reqwest::Method::POST,
        None,
        "/api/v1/auth/login",
        &serde_json::json!({"username": w.district_admin.username, "password": format!("{PASSWORD}\u{0}")}).to_string(),
    )
    .await;
    assert_invalid(status, &body, "login password");
    // Refused before the login procedure: no audit row, no failed-login count.
    let audit_after = app
        .store
        .list_audit(&Default::default(), PageReq::new(Some(1), Some(1)))
        .await
        .unwrap()
        .total;
    assert_eq!(audit_before, audit_after);
    let token = app.token(w.district_admin.username.as_str()).await;

    // Query strings.
    for path in [
        "/api/v1/members?q=%00",
        "/api/v1/members?q=a%1Bb",
        "/api/v1/units?q=%00",
        "/api/v1/places?q=x%00",
        "/api/v1/communities?q=%00",
        "/api/v1/members?q%00=x",
    ] {
        let (status, body) = app.get_json(&token, path).await;
        assert_invalid(status, &body, path);
    }
    let auditor = app.token(w.auditor.username.as_str()).await;
    for path in [
        "/api/v1/audit?actor=%00",
        "/api/v1/audit?action=login%00",
        "/api/v1/audit?from=2026-01-01%00",
    ] {
        let (status, body) = app.get_json(&auditor, path).await;
        assert_invalid(status, &body, path);
    }

    // Names in writes: nothing is stored.
    let place = format!("/api/v1/places/{}", w.a1.id);
    let before = place_name(&app, &token, &place).await;
    for name in ["甲一村\u{0}", "甲一\u{7}村", "甲一村\n二"] {
        let body = serde_json::json!({"code": w.a1.code, "name": name}).to_string();
        let (status, res) =
            send_json(&app, reqwest::Method::PUT, Some(&token), &place, &body).await;
        assert_invalid(status, &res, name);
    }
    assert_eq!(place_name(&app, &token, &place).await, before);
    let members = members_total(&app).await;
    let body = serde_json::json!({
        "name": "新党员\u{0}", "mobile": "13912345678",
        "unit_id": w.unit_a1.id.to_string(), "community_id": w.a1.id.to_string()
    })
    .to_string();
    let (status, res) = send_json(
        &app,
        reqwest::Method::POST,
        Some(&token),
        "/api/v1/members",
        &body,
    )
    .await;
    assert_invalid(status, &res, "member name");
    // A control character in a key is refused too.
    let (status, res) = send_json(
        &app,
        reqwest::Method::PUT,
        Some(&token),
        &place,
        &format!(r#"{{"code":"{}","name":"x","na\u0000me":"y"}}"#, w.a1.code),
    )
    .await;
    assert_invalid(status, &res, "key");
    assert_eq!(members_total(&app).await, members);

    // An imported CSV row: the file is refused at once, naming the cell; nothing is written.
    let (unit, community) = (&w.unit_a1.name, &w.a1.name);
    let csv = format!(
        "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n\
         导入一,13700000001,,{unit},{community},,否\n\
         导入\u{0}二,13700000002,,{unit},{community},,否\n"
    );
    let res = app
        .api()
        .post(app.url("/api/v1/imports/members?filename=m.csv&valid_only=true"))
        .bearer_auth(&token)
        .body(csv.as_bytes().to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_characters", "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("第3行") && msg.contains("姓名"), "{msg}");
    assert_eq!(members_total(&app).await, members);
    // An upload name with a control character is refused as well.
    let res = app
        .api()
        .post(app.url("/api/v1/imports/members?filename=m%07.csv"))
        .bearer_auth(&token)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Nothing with a NUL reached the database.
    let stored = app
        .db
        .raw_strings("SELECT name FROM places UNION ALL SELECT name FROM members")
        .await;
    assert!(stored.iter().all(|s| !s.contains('\0')));
}
both!(nul_bytes_are_refused_at_every_edge);

async fn text_is_stored_nfc_and_trimmed(db: Db) {
    let (app, w) = two_towns(db).await;
    let token = app.token(w.district_admin.username.as_str()).await;
    // "é" typed as e + combining acute, with full-width spaces around: stored as one precomposed character.
    let body = serde_json::json!({"code": format!(" {} ", w.a1.code), "name": "\u{3000}Jose\u{301}甲一村 "})
        .to_string();
    let (status, res) = send_json(
        &app,
        reqwest::Method::PUT,
        Some(&token),
        &format!("/api/v1/places/{}", w.a1.id),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["name"], "Jos\u{e9}甲一村");
    let raw = app
        .db
        .raw_strings(&format!("SELECT name FROM places WHERE id = {}", w.a1.id))
        .await;
    assert_eq!(raw, vec!["Jos\u{e9}甲一村".to_string()]);
    // A search in decomposed form finds it.
    let (status, found) = app.get_json(&token, "/api/v1/places?q=Jose%CC%81").await;
    assert_eq!(status, 200);
    assert_eq!(found["total"], 1, "{found}");

    // Usernames are trimmed, passwords are not.
    assert_eq!(
        app.api_login(
            &format!(" {}\u{3000}", w.community_admin_a1.username),
            PASSWORD,
            None
        )
        .await
        .status(),
        200
    );
    let padded = format!(" {PASSWORD}");
    let res = app
        .api_login(w.community_admin_b1.username.as_str(), &padded, None)
        .await;
    assert_eq!(res.status(), 401);
}
both!(text_is_stored_nfc_and_trimmed);

async fn page_forms_show_the_chinese_message(db: Db) {
    let (app, w) = two_towns(db).await;
    // The login form, before login.
    let browser = app.browser();
    let csrf = app.csrf(&browser).await;
    let res = browser
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", &format!("{}\u{0}", w.district_admin.username)),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains(MESSAGE), "{page}");
    // A signed-in edit form: nothing is stored.
    let (status, _) = app
        .web_login(&browser, w.district_admin.username.as_str(), PASSWORD)
        .await;
    assert_eq!(status, 303);
    let csrf = app.csrf(&browser).await;
    let res = browser
        .post(app.url(&format!("/places/{}/edit", w.a1.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", w.a1.code.as_str()),
            ("name", &format!("{}\u{0}", w.a1.name)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains(MESSAGE), "{html}");
    let raw = app
        .db
        .raw_strings(&format!("SELECT name FROM places WHERE id = {}", w.a1.id))
        .await;
    assert_eq!(raw, vec![w.a1.name.clone()]);
    // A page query string.
    let res = browser.get(app.url("/members?q=%00")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains(MESSAGE));
}
both!(page_forms_show_the_chinese_message);

/// The second line of defence: text PostgreSQL cannot hold, reaching the store past the edges, is a coded
/// refusal (400 `invalid_characters`), not a database failure (500).
async fn postgres_text_errors_are_refusals(db: Db) {
    let (app, w) = two_towns(db).await;
    let v = PlaceInput {
        code: w.a1.code.clone(),
        name: format!("{}\u{0}", w.a1.name),
        party_org_name: String::new(),
        party_org_level: String::new(),
    }
    .validate()
    .unwrap();
    let r = app
        .store
        .update_place(&Actor::system("test"), &Scope::Everything, w.a1.id, &v)
        .await;
    match db {
        Db::Postgres => assert!(
            matches!(r, Err(StoreError::Refused(Code::InvalidCharacters))),
            "{r:?}"
        ),
        // SQLite stores it; the edges are what keeps it out (tested above).
        Db::Sqlite => assert!(r.is_ok(), "{r:?}"),
    }
    let e = shanzhi_web::error::AppError::from(StoreError::Refused(Code::InvalidCharacters));
    use shanzhi_web::error::HttpStatus;
    assert_eq!(e.status(), 400);
}
both!(postgres_text_errors_are_refusals);
