//! A unit's roster changes only with the unit (issue 8): a town or community that names a unit for a member —
//! by import or by the member form — leaves the unit's member count and 报到率 unchanged until the unit's admin
//! confirms (待确认成员); declining takes the member off the roster and keeps the record with its residence; the
//! admin of another unit neither sees nor decides; the district's writes count at once.

use serde_json::{Value, json};

use crate::both;
use crate::support::web::{page, post_form, post_json, signed_in};
use crate::support::{Db, TestApp, two_towns};

const HEADER: &str = "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n";

async fn import(app: &TestApp, token: &str, rows: &[&str]) -> Value {
    let mut file = HEADER.to_string();
    for r in rows {
        file.push_str(r);
        file.push('\n');
    }
    let res = app
        .api()
        .post(app.url("/api/v1/imports/members?filename=m.csv&valid_only=true"))
        .bearer_auth(token)
        .body(file.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
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

/// (members who count, registered) of a unit's 报到率, as its own admin sees it.
async fn rate(app: &TestApp, token: &str, unit: i64) -> (i64, i64) {
    let (status, r) = app
        .get_json(token, &format!("/api/v1/units/{unit}/registration-rate"))
        .await;
    assert_eq!(status, 200, "{r}");
    (
        r["total_members"].as_i64().unwrap(),
        r["registered"].as_i64().unwrap(),
    )
}

async fn member_count(app: &TestApp, token: &str, unit: i64) -> i64 {
    let (status, u) = app.get_json(token, &format!("/api/v1/units/{unit}")).await;
    assert_eq!(status, 200, "{u}");
    u["member_count"].as_i64().unwrap()
}

async fn waiting(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get_json(token, "/api/v1/unit-roster").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn a_community_import_waits_for_the_unit_then_counts(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let unit = w.unit_b1.id.0;
    let own = app.token("unit_admin_b1").await;
    let before = rate(&app, &own, unit).await;
    let count_before = member_count(&app, &own, unit).await;

    // The village's admin imports a resident who works at a unit of the other town.
    let village = app.token("community_admin_a1").await;
    let r = import(&app, &village, &["外单位,13700000101,,单位乙一,甲一村,,"]).await;
    assert_eq!(r["status"], "done", "{r}");
    assert_eq!(r["report"]["inserted"], 1);
    assert_eq!(r["report"]["pending"], 1);
    let row = &r["report"]["rows"][0];
    assert_eq!(row["status"], "pending");
    assert_eq!(row["code"], "unit_confirmation_pending");
    assert!(
        r["report"]["summary"]
            .as_str()
            .unwrap()
            .contains("待单位确认 1 行")
    );

    // The unit's figures are unchanged.
    assert_eq!(rate(&app, &own, unit).await, before);
    assert_eq!(member_count(&app, &own, unit).await, count_before);
    let district = app.token("district_admin").await;
    assert_eq!(member_count(&app, &district, unit).await, count_before);

    // The unit's admin sees the member waiting, on the API, the queue page and the home page's 待办.
    let q = waiting(&app, &own).await;
    assert_eq!(q["total"], 1, "{q}");
    let id = q["items"][0]["id"].as_i64().unwrap();
    assert_eq!(q["items"][0]["unit_confirmed"], false);
    assert_eq!(q["items"][0]["unit_proposed_by"], "甲一村");
    let web = signed_in(&app, "unit_admin_b1").await;
    let (_, home) = page(&web, &app, "/").await;
    assert!(home.contains("待确认成员"), "{home}");
    assert!(home.contains("href=\"/unit-roster\""));
    let (status, html) = page(&web, &app, "/unit-roster").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("外单位") && html.contains("class=\"back\""),
        "{html}"
    );
    assert!(
        !html.contains("community_admin_a1"),
        "no login names on the page"
    );

    // Another unit's admin sees nothing of it and cannot decide it.
    let other = app.token("unit_admin_a1").await;
    assert_eq!(waiting(&app, &other).await["total"], 0);
    assert_eq!(
        app.get_json(&other, &format!("/api/v1/members/{id}"))
            .await
            .0,
        404
    );
    let (status, body) = post_json(
        &app,
        &other,
        "/api/v1/unit-roster/confirm",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // Nor does the community that proposed it.
    let (status, _) = post_json(
        &app,
        &village,
        "/api/v1/unit-roster/confirm",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 403);

    // Confirmed (through the page), the member counts for the unit.
    let (status, loc, _) = post_form(
        &web,
        &app,
        "/unit-roster",
        "/unit-roster/confirm",
        &[("ids", &id.to_string())],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/unit-roster?ok=roster_confirmed")
    );
    assert_eq!(rate(&app, &own, unit).await, (before.0 + 1, before.1));
    assert_eq!(member_count(&app, &own, unit).await, count_before + 1);
    assert_eq!(waiting(&app, &own).await["total"], 0);
    let (_, html) = page(&web, &app, "/unit-roster").await;
    assert!(html.contains("id=\"roster-empty\""), "{html}");
    // Confirming twice finds nothing to do.
    let (status, _) = post_json(
        &app,
        &own,
        "/api/v1/unit-roster/confirm",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 404);
    // Audited.
    let audit = app
        .store
        .list_audit(
            &shanzhi_store::AuditFilter {
                action: Some("member.unit_confirm".into()),
                ..Default::default()
            },
            shanzhi_store::PageReq::new(Some(1), Some(10)),
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
}
both!(a_community_import_waits_for_the_unit_then_counts);

async fn a_declined_member_leaves_the_roster_and_keeps_the_residence(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let unit = w.unit_b1.id.0;
    let own = app.token("unit_admin_b1").await;
    let before = rate(&app, &own, unit).await;
    let village = app.token("community_admin_a1").await;
    let r = import(
        &app,
        &village,
        &[
            "待拒一,13700000111,,单位乙一,甲一村,,",
            "待拒二,13700000112,,单位乙一,甲一村,,",
        ],
    )
    .await;
    assert_eq!(r["report"]["pending"], 2, "{r}");
    let q = waiting(&app, &own).await;
    let ids: Vec<i64> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    // Search narrows the queue.
    let (_, found) = app
        .get_json(&own, "/api/v1/unit-roster?q=%E5%BE%85%E6%8B%92%E4%B8%80")
        .await;
    assert_eq!(found["total"], 1, "{found}");

    // Both declined at once (the page asks first: data-confirm on the button).
    let web = signed_in(&app, "unit_admin_b1").await;
    let (_, html) = page(&web, &app, "/unit-roster").await;
    assert!(
        html.contains("formaction=\"/unit-roster/decline\" data-confirm="),
        "{html}"
    );
    let (status, body) = post_json(
        &app,
        &own,
        "/api/v1/unit-roster/decline",
        json!({"ids": ids}),
    )
    .await;
    assert_eq!((status, body["decided"].as_i64()), (200, Some(2)), "{body}");
    assert_eq!(rate(&app, &own, unit).await, before);
    assert_eq!(waiting(&app, &own).await["total"], 0);
    // Off the unit's roster: its admin no longer sees them.
    assert_eq!(
        app.get_json(&own, &format!("/api/v1/members/{}", ids[0]))
            .await
            .0,
        404
    );
    // The record stays with its residence: the village still sees it, marked.
    let (status, m) = app
        .get_json(&village, &format!("/api/v1/members/{}", ids[0]))
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["community_name"], "甲一村");
    assert!(m["unit_declined_at"].is_i64());
    let villager = signed_in(&app, "community_admin_a1").await;
    let (_, html) = page(&villager, &app, &format!("/members/{}", ids[0])).await;
    assert!(html.contains("单位未确认"), "{html}");
    // Nothing left to decide.
    let (status, _) = post_json(
        &app,
        &own,
        "/api/v1/unit-roster/confirm",
        json!({"ids": ids}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post_json(
        &app,
        &own,
        "/api/v1/unit-roster/confirm",
        json!({"ids": []}),
    )
    .await;
    assert_eq!(status, 422);
}
both!(a_declined_member_leaves_the_roster_and_keeps_the_residence);

async fn the_member_form_follows_the_same_rule(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let unit = w.unit_b1.id.0;
    let own = app.token("unit_admin_b1").await;
    let before = member_count(&app, &own, unit).await;
    // A town admin registers a resident of their town for a unit of the other town: it waits.
    let town = app.token("town_admin_a").await;
    let (status, body) = post_json(
        &app,
        &town,
        "/api/v1/members",
        json!({"name": "表单一", "mobile": "13700000121", "unit_id": unit.to_string(),
               "community_id": w.a1.id.0.to_string()}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created = body["id"].as_i64().unwrap();
    let (_, m) = app
        .get_json(&town, &format!("/api/v1/members/{created}"))
        .await;
    assert_eq!(m["unit_confirmed"], false, "{m}");
    assert_eq!(member_count(&app, &own, unit).await, before);
    // Not for a resident of the other town.
    let (status, body) = post_json(
        &app,
        &town,
        "/api/v1/members",
        json!({"name": "表单二", "mobile": "13700000122", "unit_id": unit.to_string(),
               "community_id": w.b1.id.0.to_string()}),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // A community admin moving a resident to another unit: the new unit confirms first.
    let village = app.token("community_admin_a1").await;
    let moved = w.members_a1[0].id.0;
    let res = app
        .api()
        .put(app.url(&format!("/api/v1/members/{moved}")))
        .bearer_auth(&village)
        .json(
            &json!({"name": w.members_a1[0].name, "mobile": "", "unit_id": unit.to_string(),
                      "community_id": w.a1.id.0.to_string()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["unit_confirmed"], false, "{m}");
    assert_eq!(member_count(&app, &own, unit).await, before);
    assert_eq!(waiting(&app, &own).await["total"], 2);
    // Editing it again without changing the unit keeps it waiting.
    let res = app
        .api()
        .put(app.url(&format!("/api/v1/members/{moved}")))
        .bearer_auth(&village)
        .json(
            &json!({"name": "改名", "mobile": "", "unit_id": unit.to_string(),
                      "community_id": w.a1.id.0.to_string()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(waiting(&app, &own).await["total"], 2);

    // The unit's own admin registers a member anywhere, counted at once.
    let (status, body) = post_json(
        &app,
        &own,
        "/api/v1/members",
        json!({"name": "本单位", "mobile": "13700000123", "unit_id": unit.to_string(),
               "community_id": w.a1.id.0.to_string()}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(member_count(&app, &own, unit).await, before + 1);
}
both!(the_member_form_follows_the_same_rule);

async fn the_district_import_counts_at_once(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let unit = w.unit_b1.id.0;
    let own = app.token("unit_admin_b1").await;
    let before = rate(&app, &own, unit).await;
    let district = app.token("district_admin").await;
    let r = import(&app, &district, &["区导入,13700000131,,单位乙一,甲一村,,"]).await;
    assert_eq!(r["report"]["inserted"], 1, "{r}");
    assert_eq!(r["report"]["pending"], 0);
    assert!(r["report"]["rows"].as_array().unwrap().is_empty());
    assert_eq!(rate(&app, &own, unit).await, (before.0 + 1, before.1));
    assert_eq!(waiting(&app, &own).await["total"], 0);
    // A town's import outside the town is refused row by row with its own code.
    let town = app.token("town_admin_a").await;
    let r = import(&app, &town, &["外镇,13700000132,,单位乙一,乙一村,,"]).await;
    assert_eq!(r["report"]["inserted"], 0, "{r}");
    assert_eq!(r["report"]["rows"][0]["code"], "residence_out_of_scope");
}
both!(the_district_import_counts_at_once);
