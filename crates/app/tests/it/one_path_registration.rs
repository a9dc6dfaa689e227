//! One path per use case: the same registration actions done through the pages (by one member) and through the
//! JSON API (by another) write the same rows and the same audit entries, because both call the same use case.

use serde_json::{Value, json};

use crate::both;
use crate::support::web::{post_form, post_json};
use crate::support::{Db, PASSWORD, TestApp, two_towns};

/// The fields of a registration that an action writes (not its id, member or timestamps).
fn written(r: &Value) -> Value {
    json!({
        "status": r["status"],
        "community_id": r["community_id"],
        "grid_id": r["grid_id"],
        "skills": r["skills"],
        "intentions": r["intentions"],
        "availability": r["availability"],
        "has_receipt": r["receipt_no"].is_string(),
    })
}

/// The audit entries about one registration: action, result and the actor's role, in order.
async fn audit_of(app: &TestApp, id: i64) -> Vec<String> {
    app.db
        .raw_strings(&format!(
            "SELECT action || '|' || result || '|' || COALESCE(role, '') FROM audit_log \
             WHERE target = 'registration:{id}' ORDER BY id"
        ))
        .await
}

async fn registration(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app
        .get_json(token, &format!("/api/v1/registrations/{id}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["registration"].clone()
}

async fn page_and_api_write_the_same(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let fanjia = app.store.place_by_code("a1").await.unwrap().unwrap().id;
    let grid = app.store.place_by_code("a1g1").await.unwrap().unwrap().id;
    let (fanjia, grid) = (fanjia.to_string(), grid.to_string());
    let reviewer = app.token("community_admin_a1").await;

    // Submit: 王 on the phone page, 李 through the API, the same four answers.
    let wang = app.browser();
    assert_eq!(app.web_login(&wang, "member_a1", PASSWORD).await.0, 303);
    let status = post_form(
        &wang,
        &app,
        "/my/registration",
        "/my/registration",
        &[
            ("community_id", fanjia.as_str()),
            ("skills", "forestry"),
            ("intentions", "environment"),
            ("availability", "weekend_morning"),
        ],
    )
    .await
    .0;
    assert_eq!(status, 303);
    let li = app.token("member_b1").await;
    let (status, body) = post_json(
        &app,
        &li,
        "/api/v1/registrations",
        json!({"community_id": fanjia, "skills": ["forestry"], "intentions": ["environment"],
               "availability": ["weekend_morning"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let li_id = body["id"].as_i64().unwrap();
    let (status, queue) = app
        .get_json(&reviewer, "/api/v1/registrations?status=submitted")
        .await;
    assert_eq!(status, 200);
    let wang_id = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .find(|id| *id != li_id)
        .expect("王's registration waits in the queue");
    assert_eq!(
        written(&registration(&app, &reviewer, wang_id).await),
        written(&registration(&app, &reviewer, li_id).await)
    );

    // Accept into the same grid: 王's on the community's page, 李's through the API.
    let admin = app.browser();
    assert_eq!(
        app.web_login(&admin, "community_admin_a1", PASSWORD)
            .await
            .0,
        303
    );
    let status = post_form(
        &admin,
        &app,
        &format!("/registrations/{wang_id}"),
        &format!("/registrations/{wang_id}/accept"),
        &[("grid_id", grid.as_str())],
    )
    .await
    .0;
    assert_eq!(status, 303);
    let (status, body) = post_json(
        &app,
        &reviewer,
        &format!("/api/v1/registrations/{li_id}/accept"),
        json!({"grid_id": grid.parse::<i64>().unwrap()}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (w, l) = (
        registration(&app, &reviewer, wang_id).await,
        registration(&app, &reviewer, li_id).await,
    );
    assert_eq!(written(&w), written(&l));
    assert_eq!(w["status"], "accepted");

    // A refusal is the same too: accepting again is an illegal transition on both paths, and audited alike.
    let status = post_form(
        &admin,
        &app,
        &format!("/registrations/{wang_id}"),
        &format!("/registrations/{wang_id}/accept"),
        &[("grid_id", grid.as_str())],
    )
    .await
    .0;
    let (api_status, _) = post_json(
        &app,
        &reviewer,
        &format!("/api/v1/registrations/{li_id}/accept"),
        json!({"grid_id": grid.parse::<i64>().unwrap()}),
    )
    .await;
    assert_eq!((status, api_status), (409, 409));

    // Withdraw: 王 on the page, 李 through the API.
    let status = post_form(
        &wang,
        &app,
        "/my/registration",
        &format!("/registrations/{wang_id}/withdraw"),
        &[],
    )
    .await
    .0;
    assert_eq!(status, 303);
    let (status, body) = post_json(
        &app,
        &li,
        &format!("/api/v1/registrations/{li_id}/withdraw"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        written(&registration(&app, &reviewer, wang_id).await),
        written(&registration(&app, &reviewer, li_id).await)
    );

    // The audit log tells the two stories identically.
    let (wa, la) = (audit_of(&app, wang_id).await, audit_of(&app, li_id).await);
    assert!(wa.len() >= 3, "{wa:?}");
    assert_eq!(wa, la);
}
both!(page_and_api_write_the_same);
