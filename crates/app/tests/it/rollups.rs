//! Figures are rollups (`place_stats`, `place_round_stats`) kept in the transaction of each write that moves them.
//! After every step of a scripted sequence of all those writes (through the JSON API, as the roles that do them),
//! and after concurrent accepts and imports, every place's rollups equal the figures counted from the rows.

use serde_json::{Value, json};
use shanzhi_domain::MemberId;
use shanzhi_domain::registration::RegistrationInput;
use shanzhi_domain::role::Scope;
use shanzhi_store::{Actor, PageReq};

use crate::both;
use crate::support::web::post_json;
use crate::support::{Db, TestApp, two_towns};

/// Every place's kept figures against the figures counted from the rows.
async fn check(app: &TestApp, step: &str) {
    let places = app
        .store
        .list_places(
            &Scope::Everything,
            &Default::default(),
            PageReq::new(Some(1), Some(200)),
        )
        .await
        .unwrap();
    assert!(!places.items.is_empty());
    for p in places.items {
        let kept = app.store.place_summary(p.clone()).await.unwrap();
        let counted = app.store.place_summary_recount(p.clone()).await.unwrap();
        let figures = |s: &shanzhi_store::places::PlaceSummary| {
            (
                s.children,
                s.units,
                s.members,
                s.registered,
                s.units_registered,
            )
        };
        assert_eq!(
            figures(&kept),
            figures(&counted),
            "{step}: {} (children, units, members, registered, units_registered)",
            p.name
        );
    }
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, body) = post_json(app, token, path, body).await;
    assert!((200..300).contains(&status), "{path}: {status} {body}");
    body
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) {
    let res = app
        .api()
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
}

async fn place(app: &TestApp, code: &str) -> i64 {
    app.store.place_by_code(code).await.unwrap().unwrap().id
}

async fn import(app: &TestApp, token: &str, kind: &str, csv: String) {
    let res = app
        .api()
        .post(app.url(&format!(
            "/api/v1/imports/{kind}?filename=x.csv&valid_only=false"
        )))
        .bearer_auth(token)
        .body(csv.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for _ in 0..400 {
        let (_, body) = app.get_json(token, &format!("/api/v1/imports/{id}")).await;
        if body["status"] == "done" {
            return;
        }
        assert_ne!(body["status"], "failed", "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

fn members_csv(rows: impl IntoIterator<Item = String>) -> String {
    let mut s = "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n".to_string();
    for r in rows {
        s.push_str(&r);
        s.push('\n');
    }
    s
}

async fn every_write_keeps_the_rollups(db: Db) {
    let (app, w) = two_towns(db).await;
    check(&app, "fixture").await;
    let qu = app.token("district_admin").await;
    let town_a = app.token("town_admin_a").await;
    let (a1, a2, b1, b2) = (
        place(&app, "a1").await,
        place(&app, "a2").await,
        place(&app, "b1").await,
        place(&app, "b2").await,
    );
    let (g_a1, g_b1) = (place(&app, "a1g1").await, place(&app, "b1g1").await);

    // Places, units and members created and moved.
    ok(
        &app,
        &qu,
        "/api/v1/places",
        json!({"parent_id": a2, "code": "a2g9", "name": "甲二第九网格"}),
    )
    .await;
    check(&app, "place created").await;
    let unit = ok(
        &app,
        &qu,
        "/api/v1/units",
        json!({"name": "汇总单位", "kind": "soe", "credit_code": crate::support::fixtures::credit_code(901),
            "place_id": a2.to_string(), "party_org_name": "汇总党支部", "party_org_level": "branch"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    check(&app, "unit created").await;
    put(
        &app,
        &qu,
        &format!("/api/v1/units/{unit}"),
        json!({"name": "汇总单位", "kind": "soe", "credit_code": crate::support::fixtures::credit_code(901),
            "place_id": b1.to_string(), "party_org_name": "汇总党支部", "party_org_level": "branch"}),
    )
    .await;
    check(&app, "unit moved").await;
    let member = ok(
        &app,
        &qu,
        "/api/v1/members",
        json!({"name": "汇总党员", "mobile": "13900000901", "id_card": "", "unit_id": unit.to_string(),
            "community_id": a1.to_string(), "skills": [], "separated_residence": false}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    check(&app, "member created").await;
    put(
        &app,
        &qu,
        &format!("/api/v1/members/{member}"),
        json!({"name": "汇总党员", "mobile": "", "id_card": "", "unit_id": unit.to_string(),
            "community_id": b2.to_string(), "skills": [], "separated_residence": true}),
    )
    .await;
    check(&app, "member moved").await;

    // Member registrations: accept, transfer and its acceptance, withdrawal.
    ok(
        &app,
        &qu,
        "/api/v1/rounds",
        json!({"name": "2026年度", "year": "2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
    )
    .await;
    check(&app, "round opened").await;
    let wang = app.token("member_a1").await;
    let li = app.token("member_b1").await;
    let reg = |b: Value| b["id"].as_i64().unwrap();
    let r1 = reg(ok(
        &app,
        &wang,
        "/api/v1/registrations",
        json!({"community_id": a1.to_string(), "skills": ["forestry"], "intentions": ["environment"], "availability": ["weekend_morning"]}),
    )
    .await);
    check(&app, "submitted").await;
    let c_a1 = app.token("community_admin_a1").await;
    let c_b1 = app.token("community_admin_b1").await;
    ok(
        &app,
        &c_a1,
        &format!("/api/v1/registrations/{r1}/accept"),
        json!({"grid_id": g_a1}),
    )
    .await;
    check(&app, "accepted").await;
    let r2 = reg(ok(
        &app,
        &wang,
        &format!("/api/v1/registrations/{r1}/transfer"),
        json!({"community_id": b1}),
    )
    .await);
    check(&app, "transfer asked").await;
    ok(
        &app,
        &c_b1,
        &format!("/api/v1/registrations/{r2}/accept"),
        json!({"grid_id": g_b1}),
    )
    .await;
    check(&app, "transfer accepted").await;
    ok(
        &app,
        &wang,
        &format!("/api/v1/registrations/{r2}/withdraw"),
        json!({}),
    )
    .await;
    check(&app, "accepted registration withdrawn").await;
    let r3 = reg(ok(
        &app,
        &li,
        "/api/v1/registrations",
        json!({"community_id": b1.to_string(), "skills": ["forestry"], "intentions": ["environment"], "availability": ["weekend_morning"]}),
    )
    .await);
    ok(
        &app,
        &c_b1,
        &format!("/api/v1/registrations/{r3}/accept"),
        json!({"grid_id": g_b1}),
    )
    .await;
    reg(ok(
        &app,
        &wang,
        "/api/v1/registrations",
        json!({"community_id": a1.to_string(), "skills": ["forestry"], "intentions": ["environment"], "availability": ["weekend_morning"]}),
    )
    .await);
    check(&app, "second member accepted, first submitted again").await;
    // A registered member moves residence: the 报到 figures move with them.
    let b1_member = w.members_b1[0].id.0;
    put(
        &app,
        &qu,
        &format!("/api/v1/members/{b1_member}"),
        json!({"name": w.members_b1[0].name, "mobile": "", "id_card": "", "unit_id": w.unit_b1.id.0.to_string(),
            "community_id": a2.to_string(), "skills": [], "separated_residence": true}),
    )
    .await;
    check(&app, "registered member moved").await;

    // Unit registrations: the same unit with the town and a community below it counts once at the town.
    let unit_t = app.token("unit_admin_a1").await;
    let town = place(&app, "ta").await;
    let mut unit_regs = Vec::new();
    for p in [town, a1] {
        unit_regs.push(reg(ok(
            &app,
            &unit_t,
            "/api/v1/unit-registrations",
            json!({"place_id": p.to_string(), "contact_name": "张三", "contact_phone": "13812345678", "note": "义诊"}),
        )
        .await));
    }
    ok(
        &app,
        &town_a,
        &format!("/api/v1/unit-registrations/{}/accept", unit_regs[0]),
        json!({}),
    )
    .await;
    check(&app, "unit registration accepted by the town").await;
    ok(
        &app,
        &c_a1,
        &format!("/api/v1/unit-registrations/{}/accept", unit_regs[1]),
        json!({}),
    )
    .await;
    check(&app, "unit registration accepted by the community").await;
    ok(
        &app,
        &unit_t,
        &format!("/api/v1/unit-registrations/{}/withdraw", unit_regs[0]),
        json!({}),
    )
    .await;
    check(&app, "unit registration withdrawn").await;

    // Rounds: closing expires what waits; the next round carries the accepted ones, confirmed by the member.
    let (_, rounds) = app.get_json(&qu, "/api/v1/rounds").await;
    let round = rounds[0]["id"].as_i64().unwrap();
    ok(
        &app,
        &qu,
        &format!("/api/v1/rounds/{round}/close"),
        json!({}),
    )
    .await;
    check(&app, "round closed").await;
    ok(
        &app,
        &qu,
        "/api/v1/rounds",
        json!({"name": "2027年度", "year": "2027", "starts_on": "2027-01-01", "ends_on": "2027-12-31",
            "carry_over": true}),
    )
    .await;
    check(&app, "next round opened with carry-over").await;
    let (_, mine) = app.get_json(&li, "/api/v1/registrations").await;
    let carried = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "carried")
        .map(|r| r["id"].as_i64().unwrap())
        .expect("a carried registration");
    ok(
        &app,
        &li,
        &format!("/api/v1/registrations/{carried}/confirm"),
        json!({}),
    )
    .await;
    check(&app, "carried registration confirmed").await;

    // Imports: members and units in bulk.
    import(
        &app,
        &town_a,
        "members",
        members_csv((0..30).map(|i| format!("导入{i},1370000{i:04},,单位甲一,甲二社区,,否"))),
    )
    .await;
    check(&app, "members imported").await;
    let units = format!(
        "单位名称,单位类别,统一社会信用代码,所在街镇或村居,党组织名称,党组织层级,联系人,联系电话\n\
         导入单位,事业单位,{},甲一村,导入党支部,党支部,,\n",
        crate::support::fixtures::credit_code(902)
    );
    import(&app, &town_a, "units", units).await;
    check(&app, "units imported").await;
}
both!(every_write_keeps_the_rollups);

async fn concurrent_writes_keep_the_rollups(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let (a1, b1) = (place(&app, "a1").await, place(&app, "b1").await);
    let (g_a1, g_b1) = (place(&app, "a1g1").await, place(&app, "b1g1").await);
    let qu = app.token("district_admin").await;
    // Twelve new members in two communities, each submitted.
    let mut regs = Vec::new();
    for i in 0..12 {
        let community = if i % 2 == 0 { a1 } else { b1 };
        let unit = if i % 2 == 0 {
            w.unit_a1.id.0
        } else {
            w.unit_b1.id.0
        };
        let member = ok(
            &app,
            &qu,
            "/api/v1/members",
            json!({"name": format!("并发{i}"), "mobile": format!("1390000{i:04}"), "id_card": "",
                "unit_id": unit.to_string(), "community_id": community.to_string(), "skills": [], "separated_residence": false}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let input = RegistrationInput {
            community_id: community.to_string(),
            skills: vec!["forestry".into()],
            intentions: vec!["environment".into()],
            availability: vec!["weekend_morning".into()],
        };
        let id = app
            .store
            .submit_registration(
                &Actor::system("rollups"),
                &Scope::Everything,
                MemberId(member),
                &input.validate().unwrap(),
            )
            .await
            .unwrap();
        regs.push((i, id.0));
    }
    let c_a1 = app.token("community_admin_a1").await;
    let c_b1 = app.token("community_admin_b1").await;
    let town_a = app.token("town_admin_a").await;
    // All accepts at once, with two member imports into the same communities.
    let mut tasks = Vec::new();
    for (i, id) in regs {
        let (token, grid) = if i % 2 == 0 {
            (c_a1.clone(), g_a1)
        } else {
            (c_b1.clone(), g_b1)
        };
        let client = app.api();
        let url = app.url(&format!("/api/v1/registrations/{id}/accept"));
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"grid_id": grid}))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.status());
        }));
    }
    let imports =
        async {
            for batch in 0..2 {
                import(
                    &app,
                    &town_a,
                    "members",
                    members_csv((0..20).map(|i| {
                        format!("批{batch}号{i},1371{batch}00{i:04},,单位甲一,甲一村,,否")
                    })),
                )
                .await;
            }
        };
    imports.await;
    for t in tasks {
        t.await.unwrap();
    }
    check(&app, "after concurrent accepts and imports").await;
    let district = app
        .store
        .place_summary(app.store.root_place().await.unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(district.registered, 12);
}
both!(concurrent_writes_keep_the_rollups);

/// Following `next_after` walks the whole list once, in the order of the list; the total is the rollup's.
async fn the_member_list_pages_by_key(db: Db) {
    let (app, _w) = two_towns(db).await;
    let qu = app.token("district_admin").await;
    let ids = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    let (_, mut page) = app.get_json(&qu, "/api/v1/members?per_page=3").await;
    let total = page["total"].as_i64().unwrap();
    let mut seen = Vec::new();
    loop {
        seen.extend(ids(&page));
        let Some(after) = page["next_after"].as_i64() else {
            break;
        };
        page = app
            .get_json(&qu, &format!("/api/v1/members?per_page=3&after={after}"))
            .await
            .1;
    }
    let (_, all) = app.get_json(&qu, "/api/v1/members?per_page=200").await;
    let all = ids(&all);
    assert!(all.len() > 3);
    assert_eq!(seen, all);
    assert_eq!(total, all.len() as i64);
}
both!(the_member_list_pages_by_key);
