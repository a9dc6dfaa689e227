//! 组团式 报到接收 over HTTP: unit registrations (pages with CSRF and the API), review with a required reason,
//! grid partners, resources and their scope, the pairing status machine, joint projects with activities, progress
//! and grade, alliances. The scenario (what `shanzhi demo` shows for 区林业站 ↔ 樊家村 and 融耀合伙人) is built
//! explicitly on the two-town fixture by [`scenario`].

use serde_json::{Value, json};
use shanzhi_domain::role::Scope;

use shanzhi_domain::registration::{
    PairingStatus, PairingTargets, ValidActivity, ValidAlliance, ValidPairing, ValidProject,
    ValidResource, ValidUnitRegistration,
};
use shanzhi_store::Actor;

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, PASSWORD, TestApp};

/// The two-town fixture with the open round 2026年度; 单位甲一's accepted registration with 甲一村 and its two
/// resources; the running pairing 单位甲一党支部 ↔ 甲一村 (signed 2026-01-15) with the joint project
/// 《“林”聚甲一》 and two activities, the first done; and 乙镇's alliance 融耀合伙人 of 单位乙一, 城发集团 and
/// 上海大学悉尼工商学院 (the last two located in 乙二社区).
async fn scenario(db: Db) -> TestApp {
    let app = TestApp::builder(db).start().await;
    let mut w = World::two_towns(&app.store).await;
    let s = &app.store;
    let actor = Actor::system("fixtures");
    w.world.open_round("2026年度", 2026).await;
    let (unit, a1) = (w.unit_a1.id, &w.a1);
    let (a1_scope, unit_scope) = (a1.scope(), Scope::Unit(unit));
    let reg = s
        .submit_unit_registration(
            &actor,
            &unit_scope,
            unit,
            &ValidUnitRegistration {
                place_id: a1.id,
                contact_name: "林站联络员".into(),
                contact_phone: None,
                note: Some("林业科普、林地建设抚育技术指导".into()),
            },
        )
        .await
        .unwrap();
    s.accept_unit_registration(&actor, &a1_scope, reg)
        .await
        .unwrap();
    for (title, capacity, schedule) in [
        ("生物多样性科普讲解", 30, "每季度一次,周六上午"),
        ("林地建设抚育技术指导", 10, "春秋两季"),
    ] {
        let r = ValidResource {
            title: title.into(),
            description: None,
            capacity,
            schedule: Some(schedule.into()),
            unit_registration_id: Some(reg),
        };
        s.save_resource(&actor, &unit_scope, unit, None, &r)
            .await
            .unwrap();
    }
    let pairing = s
        .create_pairing(
            &actor,
            &a1_scope,
            &ValidPairing {
                unit_id: unit,
                community_id: a1.id,
                term_start: "2026-01-01".into(),
                term_end: "2026-12-31".into(),
                targets: PairingTargets {
                    activities_per_quarter: 1,
                    note: Some("重点开展林业科普和林地抚育".into()),
                },
            },
        )
        .await
        .unwrap();
    s.set_pairing_status(
        &actor,
        &a1_scope,
        pairing,
        PairingStatus::Signed,
        Some("2026-01-15"),
    )
    .await
    .unwrap();
    s.set_pairing_status(&actor, &a1_scope, pairing, PairingStatus::Running, None)
        .await
        .unwrap();
    let project = s
        .create_project(
            &actor,
            &a1_scope,
            &ValidProject {
                name: "《“林”聚甲一》".into(),
                category: "environment".into(),
                pairing_id: Some(pairing),
                unit_id: unit,
                community_id: a1.id,
                goals: Some("开展生物多样性科普宣传,参与林地建设抚育".into()),
                period_start: "2026-01-01".into(),
                period_end: "2026-12-31".into(),
            },
        )
        .await
        .unwrap();
    let mut first = None;
    for (title, on) in [
        ("生物多样性科普宣传", "2026-03-14"),
        ("林地建设抚育", "2026-04-18"),
    ] {
        let a = s
            .add_project_activity(
                &actor,
                &a1_scope,
                project,
                &ValidActivity {
                    title: title.into(),
                    planned_on: on.into(),
                },
            )
            .await
            .unwrap();
        first.get_or_insert(a);
    }
    s.mark_activity_done(&actor, &a1_scope, first.unwrap(), "2026-03-14")
        .await
        .unwrap();
    let district = w.district.scope();
    let alliance = s
        .create_alliance(
            &actor,
            &district,
            &ValidAlliance {
                name: "融耀合伙人".into(),
                town_id: w.town_b.id,
                description: Some("乙镇区域化党建联盟".into()),
            },
        )
        .await
        .unwrap();
    let b2 = w.b2.clone();
    let cf = w.world.unit("城发集团", &b2).await;
    let sd = w.world.unit("上海大学悉尼工商学院", &b2).await;
    for u in [w.unit_b1.id, cf.id, sd.id] {
        s.add_alliance_unit(&actor, &district, alliance, u)
            .await
            .unwrap();
    }
    app
}

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

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.api().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, reqwest::Method::POST, token, path, Some(body)).await
}

/// A signed-in browser and its CSRF token.
async fn browser(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let b = app.browser();
    let (status, _) = app.web_login(&b, user, PASSWORD).await;
    assert_eq!(status, 303, "web login {user}");
    let csrf = app.csrf(&b).await;
    (b, csrf)
}

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

async fn page(app: &TestApp, b: &reqwest::Client, path: &str) -> (u16, String) {
    let res = b.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn unit_registration_review_and_grid_partner(db: Db) {
    let app = scenario(db).await;
    let fanjia = place_id(&app, "a1").await.to_string();
    let weijian = unit_id(&app, "单位乙一").await;

    // The unit admin registers with 甲一村 through the page, naming a resource.
    let (unit_b, unit_csrf) = browser(&app, "unit_admin_b1").await;
    let (status, html) = page(&app, &unit_b, "/unit-registrations/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("2026年度") && html.contains("甲一村"));
    // Errors come back beside their fields with what was typed.
    let (status, html) = form(
        &app,
        &unit_b,
        "/unit-registrations/new",
        &[
            ("_csrf", &unit_csrf),
            ("place_id", &fanjia),
            ("contact_name", ""),
            ("res_title", "健康义诊"),
            ("res_capacity", "很多"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("健康义诊") && html.contains("此项必填"));
    // Without the CSRF token the form is refused.
    let (status, _) = form(
        &app,
        &unit_b,
        "/unit-registrations/new",
        &[("place_id", &fanjia), ("contact_name", "张医生")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, loc) = form(
        &app,
        &unit_b,
        "/unit-registrations/new",
        &[
            ("_csrf", &unit_csrf),
            ("place_id", &fanjia),
            ("contact_name", "张医生"),
            ("contact_phone", "13912345678"),
            ("note", "健康义诊、健康讲座"),
            ("res_title", "健康义诊"),
            ("res_capacity", "20"),
            ("res_schedule", "每月第二个周六上午"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    assert!(loc.ends_with("?ok=unit_submitted"), "{loc}");
    let reg: i64 = loc
        .trim_start_matches("/unit-registrations/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (status, html) = page(&app, &unit_b, &format!("/unit-registrations/{reg}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("待接收") && html.contains("健康义诊"));
    assert!(html.contains("139****5678") && !html.contains("13912345678"));
    // Registering again with the same place in the same round is refused beside the field.
    let (status, html) = form(
        &app,
        &unit_b,
        "/unit-registrations/new",
        &[
            ("_csrf", &unit_csrf),
            ("place_id", &fanjia),
            ("contact_name", "张医生"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("不能重复报到"));

    // Another community's admin cannot see or decide it.
    let jiaxiao = app.token("community_admin_b1").await;
    let path = format!("/api/v1/unit-registrations/{reg}");
    assert_eq!(app.get_json(&jiaxiao, &path).await.0, 404);
    let (status, body) = post(&app, &jiaxiao, &format!("{path}/accept"), json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (jx_b, jx_csrf) = browser(&app, "community_admin_b1").await;
    let (status, _) = page(&app, &jx_b, &format!("/unit-registrations/{reg}")).await;
    assert_eq!(status, 404);
    let (status, _) = form(
        &app,
        &jx_b,
        &format!("/unit-registrations/{reg}/accept"),
        &[("_csrf", &jx_csrf)],
    )
    .await;
    assert_eq!(status, 404);

    // 甲一村 sees it in the queue; returning needs a reason; then it accepts through the page form.
    let (c_b, c_csrf) = browser(&app, "community_admin_a1").await;
    let (status, html) = page(&app, &c_b, "/unit-registrations?status=submitted").await;
    assert_eq!(status, 200);
    assert!(html.contains("单位乙一"));
    let (status, html) = form(
        &app,
        &c_b,
        &format!("/unit-registrations/{reg}/return"),
        &[("_csrf", &c_csrf), ("reason", "  ")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("退回时请填写原因"));
    let fanjia_t = app.token("community_admin_a1").await;
    let (_, r) = app.get_json(&fanjia_t, &path).await;
    assert_eq!(r["status"], "submitted");
    let (status, loc) = form(
        &app,
        &c_b,
        &format!("/unit-registrations/{reg}/accept"),
        &[("_csrf", &c_csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert!(loc.ends_with("?ok=unit_accepted"));
    let (_, r) = app.get_json(&fanjia_t, &path).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["unit_id"], weijian);

    // Grid partner: link to 甲一村第一网格 through the page, see it, unlink with confirmation.
    let grid = place_id(&app, "a1g1").await;
    let (status, html) = page(&app, &c_b, &format!("/unit-registrations/{reg}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("甲一村第一网格") && html.contains("设为网格合伙人"));
    let (status, loc) = form(
        &app,
        &c_b,
        &format!("/unit-registrations/{reg}/partners"),
        &[("_csrf", &c_csrf), ("grid_id", &grid.to_string())],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (status, list) = app.get_json(&fanjia_t, "/api/v1/grid-partners").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| p["unit_id"] == weijian && p["grid_id"] == grid)
    );
    let (_, html) = page(&app, &c_b, &format!("/unit-registrations/{reg}")).await;
    assert!(html.contains("data-confirm=\"确定解除与甲一村第一网格"));
    // The unit sees its partner grid too; the other community does not.
    let weijian_t = app.token("unit_admin_b1").await;
    let (_, list) = app.get_json(&weijian_t, "/api/v1/grid-partners").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app.get_json(&jiaxiao, "/api/v1/grid-partners").await;
    assert!(list.as_array().unwrap().is_empty());
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        &jiaxiao,
        &format!("/api/v1/grid-partners?unit_id={weijian}&grid_id={grid}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, loc) = form(
        &app,
        &c_b,
        &format!("/unit-registrations/{reg}/partners/remove"),
        &[("_csrf", &c_csrf), ("grid_id", &grid.to_string())],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (_, list) = app.get_json(&weijian_t, "/api/v1/grid-partners").await;
    assert!(list.as_array().unwrap().is_empty());
    // Through the API as well.
    let (status, _) = post(
        &app,
        &fanjia_t,
        "/api/v1/grid-partners",
        json!({"unit_id": weijian, "grid_id": grid}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        &fanjia_t,
        &format!("/api/v1/grid-partners?unit_id={weijian}&grid_id={grid}"),
        None,
    )
    .await;
    assert_eq!(status, 204);

    // API: register with 乙一村; a blank reason is refused, a real one returns it; resubmit; withdraw.
    let jiaxiao_place = place_id(&app, "b1").await;
    let (status, body) = post(
        &app,
        &weijian_t,
        "/api/v1/unit-registrations",
        json!({"place_id": jiaxiao_place.to_string(), "contact_name": "李主任"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let reg2 = body["id"].as_i64().unwrap();
    let path2 = format!("/api/v1/unit-registrations/{reg2}");
    let (status, body) = post(
        &app,
        &jiaxiao,
        &format!("{path2}/return"),
        json!({"reason": ""}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "reason");
    assert_eq!(body["error"]["fields"][0]["code"], "reason_required");
    let (status, body) = post(
        &app,
        &jiaxiao,
        &format!("{path2}/return"),
        json!({"reason": "请补充可提供的服务"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "returned");
    assert_eq!(body["return_reason"], "请补充可提供的服务");
    let (status, html) = page(&app, &unit_b, &format!("/unit-registrations/{reg2}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("请补充可提供的服务") && html.contains("重新提交"));
    let (status, body) = post(&app, &weijian_t, &format!("{path2}/resubmit"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "submitted");
    let (status, body) = post(&app, &weijian_t, &format!("{path2}/withdraw"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "withdrawn");
    let (status, body) = post(&app, &jiaxiao, &format!("{path2}/accept"), json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "illegal_transition");
    // The unit's list shows both; the filter narrows it.
    let (_, list) = app
        .get_json(&weijian_t, "/api/v1/unit-registrations?status=accepted")
        .await;
    assert_eq!(list["total"], 1);
}
both!(unit_registration_review_and_grid_partner);

async fn resources_are_scoped_to_their_unit(db: Db) {
    let app = scenario(db).await;
    let linye = unit_id(&app, "单位甲一").await;
    let linye_t = app.token("unit_admin_a1").await;
    let weijian_t = app.token("unit_admin_b1").await;
    // The demo gives 单位甲一 two resources with its accepted registration.
    let (status, list) = app
        .get_json(&linye_t, &format!("/api/v1/units/{linye}/resources"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (status, body) = post(
        &app,
        &linye_t,
        &format!("/api/v1/units/{linye}/resources"),
        json!({"title": "义务植树指导", "capacity": "15", "schedule": "每年三月"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let res = body["id"].as_i64().unwrap();
    let (status, body) = post(
        &app,
        &linye_t,
        &format!("/api/v1/units/{linye}/resources"),
        json!({"title": "x", "capacity": "0"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "capacity");
    let (status, body) = send(
        &app,
        reqwest::Method::PUT,
        &linye_t,
        &format!("/api/v1/resources/{res}"),
        Some(json!({"title": "义务植树技术指导", "capacity": "25"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["capacity"], 25);
    // Another unit's admin: 404 on every path to it.
    let (status, _) = app
        .get_json(&weijian_t, &format!("/api/v1/units/{linye}/resources"))
        .await;
    assert_eq!(status, 404);
    let (status, body) = send(
        &app,
        reqwest::Method::PUT,
        &weijian_t,
        &format!("/api/v1/resources/{res}"),
        Some(json!({"title": "改名", "capacity": "1"})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        &weijian_t,
        &format!("/api/v1/resources/{res}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let weijian = unit_id(&app, "单位乙一").await;
    let (status, _) = post(
        &app,
        &weijian_t,
        &format!("/api/v1/units/{linye}/resources"),
        json!({"title": "冒名资源", "capacity": "1"}),
    )
    .await;
    assert_eq!(status, 404);
    let (wb, wcsrf) = browser(&app, "unit_admin_b1").await;
    assert_eq!(
        page(&app, &wb, &format!("/resources/{res}/edit")).await.0,
        404
    );
    assert_eq!(
        page(&app, &wb, &format!("/units/{linye}/resources"))
            .await
            .0,
        404
    );
    let (status, _) = form(
        &app,
        &wb,
        &format!("/resources/{res}/delete"),
        &[("_csrf", &wcsrf)],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        page(&app, &wb, &format!("/units/{weijian}/resources"))
            .await
            .0,
        200
    );
    // The owner manages it through the pages: edit, then delete (with confirmation).
    let (lb, lcsrf) = browser(&app, "unit_admin_a1").await;
    let (status, html) = page(&app, &lb, &format!("/units/{linye}/resources")).await;
    assert_eq!(status, 200);
    assert!(html.contains("义务植树技术指导") && html.contains("data-confirm"));
    let (status, loc) = form(
        &app,
        &lb,
        &format!("/resources/{res}/edit"),
        &[("_csrf", &lcsrf), ("title", "义务植树"), ("capacity", "30")],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (status, _) = form(
        &app,
        &lb,
        &format!("/resources/{res}/delete"),
        &[("_csrf", &lcsrf)],
    )
    .await;
    assert_eq!(status, 303);
    let (_, list) = app
        .get_json(&linye_t, &format!("/api/v1/units/{linye}/resources"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    // The town sees the unit's resources offered in its area.
    let malu_t = app.token("town_admin_a").await;
    let (status, list) = app
        .get_json(&malu_t, &format!("/api/v1/units/{linye}/resources"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
}
both!(resources_are_scoped_to_their_unit);

async fn pairing_status_machine(db: Db) {
    let app = scenario(db).await;
    let fanjia = place_id(&app, "a1").await;
    let weijian = unit_id(&app, "单位乙一").await;
    let t = app.token("community_admin_a1").await;
    // The demo pairing: 单位甲一党支部 ↔ 甲一村党总支, running.
    let (status, list) = app.get_json(&t, "/api/v1/pairings").await;
    assert_eq!(status, 200);
    let demo = &list["items"][0];
    assert_eq!(demo["unit_party_org_name"], "单位甲一党支部");
    assert_eq!(demo["community_party_org_name"], "甲一村党总支");
    assert_eq!(demo["status"], "running");
    assert_eq!(demo["signed_on"], "2026-01-15");

    let (status, body) = post(
        &app,
        &t,
        "/api/v1/pairings",
        json!({"unit_id": weijian.to_string(), "community_id": fanjia.to_string(),
               "term_start": "2026-01-01", "term_end": "2026-12-31", "activities_per_quarter": "2"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let path = format!("/api/v1/pairings/{id}");
    let status_of = |v: &Value| v["pairing"]["status"].as_str().unwrap().to_string();
    let (_, d) = app.get_json(&t, &path).await;
    assert_eq!(status_of(&d), "draft");
    assert_eq!(d["progress"]["target"], 8);
    // draft → running skips signing.
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/status"),
        json!({"status": "running"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "illegal_transition");
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/status"),
        json!({"status": "signed", "signed_on": "2026-02-01"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&body), "signed");
    assert_eq!(body["pairing"]["signed_on"], "2026-02-01");
    let (status, _) = post(
        &app,
        &t,
        &format!("{path}/status"),
        json!({"status": "signed"}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/status"),
        json!({"status": "running"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&body), "running");
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/status"),
        json!({"status": "ended"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&body), "ended");
    for to in ["renewed", "running", "draft", "nonsense"] {
        let (status, body) = post(&app, &t, &format!("{path}/status"), json!({"status": to})).await;
        assert_eq!(status, 409, "ended → {to}");
        assert_eq!(body["error"]["code"], "illegal_transition");
    }
    // Scope: another community 404; the unit sees its own pairing but cannot change it.
    let jiaxiao = app.token("community_admin_b1").await;
    assert_eq!(app.get_json(&jiaxiao, &path).await.0, 404);
    let (status, _) = post(
        &app,
        &jiaxiao,
        &format!("{path}/status"),
        json!({"status": "renewed"}),
    )
    .await;
    assert_eq!(status, 404);
    let weijian_t = app.token("unit_admin_b1").await;
    assert_eq!(app.get_json(&weijian_t, &path).await.0, 200);
    let (status, body) = post(
        &app,
        &weijian_t,
        &format!("{path}/status"),
        json!({"status": "renewed"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");

    // Pages: the list and the status buttons through a form with CSRF.
    let (b, csrf) = browser(&app, "community_admin_a1").await;
    let (status, html) = page(&app, &b, "/pairings").await;
    assert_eq!(status, 200);
    assert!(html.contains("单位甲一党支部") && html.contains("单位乙一党支部"));
    let (status, loc) = form(
        &app,
        &b,
        "/pairings/new",
        &[
            ("_csrf", &csrf),
            ("unit_id", &weijian.to_string()),
            ("community_id", &fanjia.to_string()),
            ("term_start", "2026-12-31"),
            ("term_end", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 200, "bad term comes back as a form");
    assert!(loc.contains("2026-12-31"));
    let (status, loc) = form(
        &app,
        &b,
        "/pairings/new",
        &[
            ("_csrf", &csrf),
            ("unit_id", &weijian.to_string()),
            ("community_id", &fanjia.to_string()),
            ("term_start", "2026-01-01"),
            ("term_end", "2027-12-31"),
            ("activities_per_quarter", "1"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let new_path = loc.split('?').next().unwrap().to_string();
    let (_, html) = page(&app, &b, &new_path).await;
    assert!(html.contains("草拟") && html.contains("name=\"signed_on\""));
    let (status, _) = form(
        &app,
        &b,
        &format!("{new_path}/status"),
        &[("_csrf", &csrf), ("to", "running")],
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = form(
        &app,
        &b,
        &format!("{new_path}/status"),
        &[
            ("_csrf", &csrf),
            ("to", "signed"),
            ("signed_on", "2026-03-01"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &b, &new_path).await;
    assert!(html.contains("已签约") && html.contains("2026-03-01"));
}
both!(pairing_status_machine);

async fn project_activities_progress_and_grade(db: Db) {
    let app = scenario(db).await;
    let t = app.token("community_admin_a1").await;
    let (status, list) = app.get_json(&t, "/api/v1/projects").await;
    assert_eq!(status, 200);
    let project = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "《“林”聚甲一》")
        .unwrap()
        .clone();
    assert_eq!(project["unit_name"], "单位甲一");
    assert_eq!(project["community_name"], "甲一村");
    let id = project["id"].as_i64().unwrap();
    let path = format!("/api/v1/projects/{id}");
    let (_, d) = app.get_json(&t, &path).await;
    assert_eq!(d["planned"], 2);
    assert_eq!(d["done"], 1);
    assert_eq!(d["pairing_progress"]["target"], 4);
    assert_eq!(d["pairing_progress"]["done"], 1);
    assert_eq!(d["pairing_progress"]["percent"], 25);
    let titles: Vec<&str> = d["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["生物多样性科普宣传", "林地建设抚育"]);

    // Add an activity and mark it done; done twice is refused.
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/activities"),
        json!({"title": "林下空间共建", "planned_on": "2026-06-06"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let act = body["id"].as_i64().unwrap();
    let (status, body) = post(
        &app,
        &t,
        &format!("{path}/activities"),
        json!({"title": "", "planned_on": "2026-13-01"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_failed");
    let (status, _) = post(
        &app,
        &t,
        &format!("/api/v1/activities/{act}/done"),
        json!({"done_on": "2026-06-06"}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = post(
        &app,
        &t,
        &format!("/api/v1/activities/{act}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "illegal_transition");
    let (status, acts) = app.get_json(&t, &format!("{path}/activities")).await;
    assert_eq!(status, 200);
    assert_eq!(acts.as_array().unwrap().len(), 3);
    let (_, d) = app.get_json(&t, &path).await;
    assert_eq!(d["done"], 2);
    assert_eq!(d["pairing_progress"]["done"], 2);
    assert_eq!(d["pairing_progress"]["percent"], 50);

    // Out of scope: another community 404; the unit may read but not grade.
    let jiaxiao = app.token("community_admin_b1").await;
    assert_eq!(app.get_json(&jiaxiao, &path).await.0, 404);
    let (status, _) = post(
        &app,
        &jiaxiao,
        &format!("/api/v1/activities/{act}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let linye = app.token("unit_admin_a1").await;
    assert_eq!(app.get_json(&linye, &path).await.0, 200);
    let (status, _) = post(
        &app,
        &linye,
        &format!("{path}/grade"),
        json!({"grade": "优"}),
    )
    .await;
    assert_eq!(status, 403);
    // The community grades once.
    let (status, body) = post(&app, &t, &format!("{path}/grade"), json!({"grade": "极好"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "grade");
    let (status, body) = post(&app, &t, &format!("{path}/grade"), json!({"grade": "优"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["project"]["grade"], "excellent");
    let (status, body) = post(&app, &t, &format!("{path}/grade"), json!({"grade": "poor"})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "illegal_transition");

    // Pages: a new project with a planned activity marked done through the forms.
    let (b, csrf) = browser(&app, "community_admin_a1").await;
    let (status, html) = page(&app, &b, &format!("/projects/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("《“林”聚甲一》")
            && html.contains("林地建设抚育")
            && html.contains("<progress")
    );
    let pairing = project["pairing_id"].as_i64().unwrap().to_string();
    let linye_unit = unit_id(&app, "单位甲一").await.to_string();
    let fanjia = place_id(&app, "a1").await.to_string();
    let (status, loc) = form(
        &app,
        &b,
        "/projects/new",
        &[
            ("_csrf", &csrf),
            ("name", "林间课堂"),
            ("category", "culture"),
            ("pairing_id", &pairing),
            ("unit_id", &linye_unit),
            ("community_id", &fanjia),
            ("period_start", "2026-01-01"),
            ("period_end", "2026-12-31"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let ppath = loc.split('?').next().unwrap().to_string();
    let (status, _) = form(
        &app,
        &b,
        &format!("{ppath}/activities"),
        &[
            ("_csrf", &csrf),
            ("title", "自然笔记"),
            ("planned_on", "2026-07-01"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let pid: i64 = ppath.trim_start_matches("/projects/").parse().unwrap();
    let (_, acts) = app
        .get_json(&t, &format!("/api/v1/projects/{pid}/activities"))
        .await;
    let aid = acts[0]["id"].as_i64().unwrap().to_string();
    let (status, loc) = form(
        &app,
        &b,
        &format!("/activities/{aid}/done"),
        &[
            ("_csrf", &csrf),
            ("project_id", &pid.to_string()),
            ("done_on", "2026-07-01"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (status, loc) = form(
        &app,
        &b,
        &format!("{ppath}/grade"),
        &[("_csrf", &csrf), ("grade", "fair")],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (_, html) = page(&app, &b, &ppath).await;
    assert!(html.contains("已完成 2026-07-01") && html.contains("<strong>中</strong>"));
}
both!(project_activities_progress_and_grade);

async fn alliances_and_openapi(db: Db) {
    let app = scenario(db).await;
    let qu = app.token("district_admin").await;
    let (status, list) = app.get_json(&qu, "/api/v1/alliances").await;
    assert_eq!(status, 200);
    let a = &list[0];
    assert_eq!(a["name"], "融耀合伙人");
    assert_eq!(a["town_name"], "乙镇");
    let mut units: Vec<&str> = a["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_name"].as_str().unwrap())
        .collect();
    units.sort();
    let mut want = ["单位乙一", "城发集团", "上海大学悉尼工商学院"];
    want.sort();
    assert_eq!(units, want);
    // A unit in it sees it; another town does not.
    let weijian = app.token("unit_admin_b1").await;
    assert_eq!(
        app.get_json(&weijian, "/api/v1/alliances").await.1[0]["name"],
        "融耀合伙人"
    );
    let malu = app.token("town_admin_a").await;
    assert!(
        app.get_json(&malu, "/api/v1/alliances")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    let jdz_alliance = a["id"].as_i64().unwrap();
    let linye = unit_id(&app, "单位甲一").await;
    let (status, _) = post(
        &app,
        &malu,
        &format!("/api/v1/alliances/{jdz_alliance}/units"),
        json!({"unit_id": linye}),
    )
    .await;
    assert_eq!(status, 404);
    // 甲镇 creates its own through the page and adds a unit.
    let (b, csrf) = browser(&app, "town_admin_a").await;
    let malu_id = place_id(&app, "ta").await.to_string();
    let (status, loc) = form(
        &app,
        &b,
        "/alliances",
        &[
            ("_csrf", &csrf),
            ("name", "马陆共建联盟"),
            ("town_id", &malu_id),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let (_, list) = app.get_json(&malu, "/api/v1/alliances").await;
    let id = list[0]["id"].as_i64().unwrap();
    let (status, body) = post(
        &app,
        &malu,
        &format!("/api/v1/alliances/{id}/units"),
        json!({"unit_id": linye}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["units"][0]["unit_name"], "单位甲一");
    let (status, html) = page(&app, &b, "/alliances").await;
    assert_eq!(status, 200);
    assert!(html.contains("马陆共建联盟") && html.contains("单位甲一"));
    // Duplicate names are refused beside the field.
    let (status, html) = form(
        &app,
        &b,
        "/alliances",
        &[
            ("_csrf", &csrf),
            ("name", "马陆共建联盟"),
            ("town_id", &malu_id),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("马陆共建联盟"));

    // The pages are reachable from home and the unit page.
    let (ub, _) = browser(&app, "unit_admin_a1").await;
    let (_, html) = page(&app, &ub, "/").await;
    assert!(html.contains("href=\"/unit-registrations\""));
    let (_, html) = page(&app, &ub, &format!("/units/{linye}")).await;
    assert!(html.contains(&format!("/units/{linye}/resources")));
    let (status, html) = page(&app, &ub, "/unit-registrations").await;
    assert_eq!(status, 200);
    assert!(html.contains("甲一村") && html.contains("已接收"));

    let doc: Value = app
        .api()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/unit-registrations",
        "/api/v1/unit-registrations/{id}/accept",
        "/api/v1/unit-registrations/{id}/return",
        "/api/v1/unit-registrations/{id}/withdraw",
        "/api/v1/units/{id}/resources",
        "/api/v1/resources/{id}",
        "/api/v1/grid-partners",
        "/api/v1/pairings",
        "/api/v1/pairings/{id}",
        "/api/v1/pairings/{id}/status",
        "/api/v1/alliances",
        "/api/v1/alliances/{id}/units",
        "/api/v1/projects",
        "/api/v1/projects/{id}/activities",
        "/api/v1/activities/{id}/done",
        "/api/v1/projects/{id}/grade",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(paths["/api/v1/grid-partners"]["delete"].is_object());
    assert!(paths["/api/v1/resources/{id}"]["put"]["security"].is_array());
}
both!(alliances_and_openapi);
