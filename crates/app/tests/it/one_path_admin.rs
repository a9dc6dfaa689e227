//! One path for pages and API (admin side): the same action done through the page (form POST with CSRF) and
//! through the JSON API writes the same rows and the same audit entries, because both call one use case.
//! Covered: a member import (multipart upload on the page, raw file on the API) and a dictionary entry.

use crate::both;
use crate::support::Db;
use crate::support::{PASSWORD, TestApp, two_towns};

const HEADER: &str = "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n";

fn multipart(boundary: &str, name: &str, file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nmembers\r\n")
            .as_bytes(),
    );
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

/// Polls an import through the API until it has ended.
async fn wait(app: &TestApp, token: &str, id: i64) -> serde_json::Value {
    for _ in 0..200 {
        let (status, body) = app.get_json(token, &format!("/api/v1/imports/{id}")).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "done" || body["status"] == "failed" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

/// The audit entries of one target as `actor|action|result`, oldest first.
async fn audit_of(app: &TestApp, target: &str) -> Vec<String> {
    app.db
        .raw_strings(&format!(
            "SELECT actor || '|' || action || '|' || result FROM audit_log WHERE target = '{target}' ORDER BY id"
        ))
        .await
}

/// The member with this mobile, read back through the API, without the fields that differ by nature.
async fn member_by_mobile(app: &TestApp, token: &str, mobile: &str) -> serde_json::Value {
    let (status, body) = app
        .get_json(token, &format!("/api/v1/members?mobile={mobile}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 1, "{body}");
    let mut m = body["items"][0].clone();
    let obj = m.as_object_mut().unwrap();
    for k in [
        "id",
        "name",
        "mobile_masked",
        "created_at",
        "updated_at",
        "unit_proposed_at",
        "version",
    ] {
        obj.remove(k);
    }
    m
}

async fn member_import_page_and_api(db: Db) {
    let (app, _w) = two_towns(db).await;
    let token = app.token("community_admin_a1").await;
    let browser = app.browser();
    app.web_login(&browser, "community_admin_a1", PASSWORD)
        .await;

    // Through the page.
    let html = browser
        .get(app.url("/imports"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("action=\"/imports?_csrf=").unwrap() + "action=\"/imports?_csrf=".len();
    let csrf = html[start..].split('"').next().unwrap().to_string();
    let boundary = "----onepath";
    let page_file = format!("{HEADER}一径页面,13700000051,,单位甲一,甲一村,,\n");
    let res = browser
        .post(app.url(&format!("/imports?_csrf={csrf}")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(multipart(boundary, "m.csv", page_file.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    let page_id: i64 = loc.trim_start_matches("/imports/").parse().unwrap();
    let page_job = wait(&app, &token, page_id).await;

    // Through the API.
    let api_file = format!("{HEADER}一径接口,13700000052,,单位甲一,甲一村,,\n");
    let res = app
        .api()
        .post(app.url("/api/v1/imports/members?filename=m.csv"))
        .bearer_auth(&token)
        .body(api_file.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    let api_id = body["id"].as_i64().unwrap();
    let api_job = wait(&app, &token, api_id).await;

    // The same job outcome …
    for k in [
        "status",
        "kind",
        "inserted",
        "skipped",
        "error_rows",
        "total_rows",
        "created_by",
        "place_path",
    ] {
        assert_eq!(page_job[k], api_job[k], "{k}: {page_job} / {api_job}");
    }
    assert_eq!(page_job["status"], "done");
    assert_eq!(page_job["inserted"], 1);
    // … the same member rows …
    assert_eq!(
        member_by_mobile(&app, &token, "13700000051").await,
        member_by_mobile(&app, &token, "13700000052").await
    );
    // … and the same audit entries (upload and finish, by the same admin).
    let page_audit = audit_of(&app, &format!("import:{page_id}")).await;
    let api_audit = audit_of(&app, &format!("import:{api_id}")).await;
    assert!(!page_audit.is_empty());
    assert_eq!(page_audit, api_audit);
    assert!(
        page_audit[0].starts_with("community_admin_a1|import.upload|"),
        "{page_audit:?}"
    );
}
both!(member_import_page_and_api);

async fn dictionary_entry_page_and_api(db: Db) {
    let (app, _w) = two_towns(db).await;
    let token = app.token("district_admin").await;
    let browser = app.browser();
    app.web_login(&browser, "district_admin", PASSWORD).await;
    let csrf = app.csrf(&browser).await;

    let res = browser
        .post(app.url("/dictionaries"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "skill"),
            ("code", "onepath_page"),
            ("name", "一径技能"),
            ("sort", "77"),
            ("active", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = app
        .api()
        .post(app.url("/api/v1/dictionaries/skill"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"code": "onepath_api", "name": "一径技能", "sort": 77, "active": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // The same rows, read back through the API …
    let (status, entries) = app.get_json(&token, "/api/v1/dictionaries/skill").await;
    assert_eq!(status, 200);
    let find = |code: &str| {
        let mut e = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {entries}"))
            .clone();
        let obj = e.as_object_mut().unwrap();
        obj.remove("id");
        obj.remove("code");
        e
    };
    assert_eq!(find("onepath_page"), find("onepath_api"));
    // … and the same audit entries.
    let page_audit = audit_of(&app, "dict:skill:onepath_page").await;
    assert_eq!(
        page_audit,
        vec!["district_admin|dict.create|ok".to_string()]
    );
    assert_eq!(page_audit, audit_of(&app, "dict:skill:onepath_api").await);
}
both!(dictionary_entry_page_and_api);
