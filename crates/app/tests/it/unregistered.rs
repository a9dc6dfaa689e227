//! 未报到名单 and 提醒报到: who of a unit / of a place's residents has not registered in the open round, in the
//! caller's scope (the unit-rate rule for a unit's list), masked unless revealed (audited), exported, reminded
//! (a message in the member's inbox, at most once in 24 h whoever sends it), one by one and all at once; the member
//! sees and reads the message.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shanzhi_domain::MemberId;
use shanzhi_domain::registration::RegistrationInput;
use shanzhi_domain::role::Scope;
use shanzhi_store::notifications::Recipient;
use shanzhi_store::{Actor, AuditFilter, PageReq};

use crate::both;
use crate::support::fixtures::{Member, Place, TwoTowns};
use crate::support::web::{page, post_form, post_json, signed_in};
use crate::support::{Db, TestApp, two_towns};

async fn register(app: &TestApp, m: &Member, community: &Place) {
    let v = RegistrationInput {
        community_id: community.id.0.to_string(),
        skills: vec![],
        intentions: vec![],
        availability: vec!["weekday_evening".into()],
    }
    .validate()
    .unwrap();
    app.store
        .submit_registration(&Actor::system("test"), &Scope::Member(m.id), m.id, &v)
        .await
        .unwrap();
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.store
        .list_audit(
            &AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            PageReq::new(Some(1), Some(1)),
        )
        .await
        .unwrap()
        .total
}

fn names(list: &Value) -> BTreeSet<String> {
    list["members"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// An open round where `members_a1[1]` has registered; a member of 单位甲一 who lives in 乙一村.
async fn setup(db: Db) -> (TestApp, TwoTowns, Member) {
    let (app, mut w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    register(&app, &w.members_a1[1], &w.a1).await;
    let elsewhere = w.world.member("外居党员", &w.unit_a1, &w.b1).await;
    (app, w, elsewhere)
}

async fn lists_follow_the_scope(db: Db) {
    let (app, w, elsewhere) = setup(db).await;
    let a1_0 = w.members_a1[0].name.as_str();
    let unit_a1 = format!("/api/v1/units/{}/unregistered", w.unit_a1.id.0);

    // The unit's own admin and the district see every unregistered member of the unit, wherever they live.
    for who in [&w.unit_admin_a1, &w.district_admin] {
        let token = app.token(&who.username).await;
        let (status, list) = app.get_json(&token, &unit_a1).await;
        assert_eq!(status, 200, "{}", who.username);
        assert_eq!(names(&list), set(&[a1_0, "外居党员"]), "{}", who.username);
        assert_eq!(list["unnamed"], 0);
        assert_eq!(list["days_open"], 0);
        assert_eq!(list["round_name"], "2026年度");
        for m in list["members"]["items"].as_array().unwrap() {
            assert!(m["mobile"].as_str().unwrap().contains('*'), "masked: {m}");
        }
    }
    // The community where the unit is located names only its residents; the one living elsewhere is counted.
    let token = app.token(&w.community_admin_a1.username).await;
    let (status, list) = app.get_json(&token, &unit_a1).await;
    assert_eq!(status, 200);
    assert_eq!(names(&list), set(&[a1_0]));
    assert_eq!(list["unnamed"], 1);
    // Another unit's admin, a community where the unit is not: 404.
    for who in [&w.unit_admin_a2, &w.community_admin_a2, &w.town_admin_b] {
        let token = app.token(&who.username).await;
        let (status, _) = app.get_json(&token, &unit_a1).await;
        assert_eq!(status, 404, "{}", who.username);
    }

    // Per place: the residents of the community, for it and its town; another community's list is 404.
    let a1 = format!("/api/v1/places/{}/unregistered", w.a1.id.0);
    for who in [&w.community_admin_a1, &w.town_admin_a, &w.district_admin] {
        let token = app.token(&who.username).await;
        let (status, list) = app.get_json(&token, &a1).await;
        assert_eq!(status, 200, "{}", who.username);
        assert_eq!(names(&list), set(&[a1_0]), "{}", who.username);
    }
    let b1 = format!("/api/v1/places/{}/unregistered", w.b1.id.0);
    let (status, list) = app
        .get_json(&app.token(&w.community_admin_b1.username).await, &b1)
        .await;
    assert_eq!(status, 200);
    assert!(names(&list).contains(elsewhere.name.as_str()));
    for who in [&w.community_admin_a1, &w.town_admin_a, &w.unit_admin_a1] {
        let token = app.token(&who.username).await;
        let (status, _) = app.get_json(&token, &b1).await;
        assert_eq!(status, 404, "{}", who.username);
    }
    // Grid leaders, members and the 三员 have no such list.
    for who in [&w.grid_leader_a1, &w.member_a1, &w.security_admin] {
        let token = app.token(&who.username).await;
        let (status, _) = app.get_json(&token, &a1).await;
        assert_eq!(status, 403, "{}", who.username);
    }
    // Search by name, sort by last reminded.
    let token = app.token(&w.district_admin.username).await;
    let (_, list) = app
        .get_json(&token, &format!("{unit_a1}?q=外居&sort=reminded"))
        .await;
    assert_eq!(names(&list), set(&["外居党员"]));
}
both!(lists_follow_the_scope);

async fn reveal_and_export_are_audited(db: Db) {
    let (app, w, _) = setup(db).await;
    let a1 = format!("/api/v1/places/{}/unregistered", w.a1.id.0);
    // The community may reveal: full numbers on request, audited once per view.
    let token = app.token(&w.community_admin_a1.username).await;
    let (_, masked) = app.get_json(&token, &a1).await;
    assert_ne!(
        masked["members"]["items"][0]["mobile"],
        w.members_a1[0].mobile.as_str()
    );
    assert_eq!(
        audit_count(&app, "registration.unregistered_reveal").await,
        0
    );
    let (status, full) = app.get_json(&token, &format!("{a1}?reveal=true")).await;
    assert_eq!(status, 200);
    assert_eq!(full["revealed"], true);
    assert_eq!(
        full["members"]["items"][0]["mobile"],
        w.members_a1[0].mobile.as_str()
    );
    assert_eq!(
        audit_count(&app, "registration.unregistered_reveal").await,
        1
    );
    // The town may not reveal.
    let town = app.token(&w.town_admin_a.username).await;
    let (status, _) = app.get_json(&town, &format!("{a1}?reveal=true")).await;
    assert_eq!(status, 403);

    // Export: full for the community (audited as a full export), masked for the town (not audited).
    let xlsx = |token: String| {
        let app = &app;
        let path = format!("/api/v1/places/{}/unregistered.xlsx", w.a1.id.0);
        async move {
            let res = app
                .api()
                .get(app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200);
            let bytes = res.bytes().await.unwrap().to_vec();
            shanzhi_sheets::read_table("u.xlsx", &bytes, &Default::default()).unwrap()
        }
    };
    let sheet = xlsx(token.clone()).await;
    assert_eq!(sheet.rows.len(), 1);
    let mobile = sheet.column("手机号").unwrap();
    assert_eq!(sheet.rows[0].get(mobile), w.members_a1[0].mobile);
    assert_eq!(audit_count(&app, "export.unregistered.reveal").await, 1);
    let sheet = xlsx(town).await;
    assert!(sheet.rows[0].get(mobile).contains('*'));
    assert_eq!(audit_count(&app, "export.unregistered.reveal").await, 1);
}
both!(reveal_and_export_are_audited);

async fn a_reminder_reaches_the_inbox_once_a_day(db: Db) {
    let (app, w, _) = setup(db).await;
    let target = &w.members_a1[0];
    let remind = format!("/api/v1/places/{}/unregistered/remind", w.a1.id.0);
    let community = app.token(&w.community_admin_a1.username).await;
    let member = app.token(&w.member_a1.username).await;
    let (_, inbox) = app.get_json(&member, "/api/v1/messages").await;
    assert_eq!(inbox["total"], 0);

    let (status, body) =
        post_json(&app, &community, &remind, json!({"member_id": target.id.0})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_count(&app, "registration.remind").await, 1);
    // Again within 24 h, by the same community or by the unit's admin: refused with a clear message.
    let (status, body) =
        post_json(&app, &community, &remind, json!({"member_id": target.id.0})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reminded_recently"))
    );
    let unit = app.token(&w.unit_admin_a1.username).await;
    let (status, body) = post_json(
        &app,
        &unit,
        &format!("/api/v1/units/{}/unregistered/remind", w.unit_a1.id.0),
        json!({"member_id": target.id.0}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reminded_recently"))
    );
    // A registered member needs no reminder; another community's member is not in this list.
    let (status, body) = post_json(
        &app,
        &community,
        &remind,
        json!({"member_id": w.members_a1[1].id.0}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("member_already_registered"))
    );
    let (status, _) = post_json(
        &app,
        &community,
        &remind,
        json!({"member_id": w.members_b1[0].id.0}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(audit_count(&app, "registration.remind").await, 1);

    // The member sees it: unread on the home page and in 消息, then reads it.
    let (_, inbox) = app.get_json(&member, "/api/v1/messages").await;
    assert_eq!(inbox["total"], 1);
    let msg = &inbox["items"][0];
    assert_eq!(msg["kind"], "registration_reminder");
    assert!(msg["body"].as_str().unwrap().contains("2026年度"));
    assert!(msg["read_at"].is_null());
    let web = signed_in(&app, &w.member_a1.username).await;
    let (_, home) = page(&web, &app, "/").await;
    assert!(
        home.contains("未读消息") && home.contains("消息(1 条未读)"),
        "{home}"
    );
    let (_, account) = page(&web, &app, "/account").await;
    assert!(account.contains("href=\"/messages\""));
    let (status, html) = page(&web, &app, "/messages").await;
    assert_eq!(status, 200);
    assert!(html.contains("报到提醒") && html.contains("class=\"back\""));
    let id = msg["id"].as_i64().unwrap();
    // Nobody else can read (or mark) it.
    let other = app.token(&w.member_b1.username).await;
    let (status, _) = post_json(
        &app,
        &other,
        &format!("/api/v1/messages/{id}/read"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = post_form(
        &web,
        &app,
        "/messages",
        &format!("/messages/{id}/read"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (_, inbox) = app.get_json(&member, "/api/v1/messages").await;
    assert!(inbox["items"][0]["read_at"].is_i64());
    let (_, home) = page(&web, &app, "/").await;
    assert!(!home.contains("未读消息"));
}
both!(a_reminder_reaches_the_inbox_once_a_day);

async fn remind_all_skips_those_reminded_today(db: Db) {
    let (app, mut w, _) = setup(db).await;
    let more = w.world.member("甲一新党员", &w.unit_a2, &w.a1).await;
    let community = signed_in(&app, &w.community_admin_a1.username).await;
    let base = format!("/places/{}/unregistered", w.a1.id.0);

    // The page: the list, the reminder buttons, the days since the round opened, a way back.
    let (status, html) = page(&community, &app, &base).await;
    assert_eq!(status, 200);
    for text in [
        w.members_a1[0].name.as_str(),
        "甲一新党员",
        "提醒报到",
        "提醒全部(2人)",
        "报到已开启 0 天",
        "class=\"back\"",
        "data-confirm",
    ] {
        assert!(html.contains(text), "{text}");
    }
    // One reminder first (through the page), then 提醒全部: only the other one is reminded.
    let (status, loc, _) = post_form(
        &community,
        &app,
        &base,
        &format!("{base}/remind"),
        &[("member_id", &more.id.0.to_string())],
    )
    .await;
    assert_eq!((status, loc.contains("ok=reminded")), (303, true), "{loc}");
    let (_, html) = page(&community, &app, &base).await;
    assert!(html.contains("今日已提醒"));
    let (status, loc, _) =
        post_form(&community, &app, &base, &format!("{base}/remind-all"), &[]).await;
    assert_eq!(status, 303);
    assert!(loc.contains("ok=reminded_some"), "{loc}");
    let token = app.token(&w.community_admin_a1.username).await;
    let (status, out) = post_json(
        &app,
        &token,
        &format!("/api/v1{base}/remind-all"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (out["reminded"].as_i64(), out["skipped"].as_i64()),
        (Some(0), Some(2))
    );
    for m in [w.members_a1[0].id, more.id] {
        let inbox = app
            .store
            .list_notifications(
                Recipient {
                    account: None,
                    member: Some(MemberId(m.0)),
                },
                PageReq::default(),
            )
            .await
            .unwrap();
        assert_eq!(inbox.total, 1, "one message each");
    }
    assert_eq!(audit_count(&app, "registration.remind_all").await, 2);

    // The home page leads here; once everyone has registered the list says so.
    let (_, home) = page(&community, &app, "/").await;
    assert!(home.contains(&format!("href=\"{base}\"")), "{home}");
    register(&app, &w.members_a1[0], &w.a1).await;
    register(&app, &more, &w.a1).await;
    let (_, html) = page(&community, &app, &base).await;
    assert!(html.contains("全部已报到"));
    assert!(!html.contains("提醒全部"));
    // The unit admin reaches the unit's list from home and from the unit page.
    let unit = signed_in(&app, &w.unit_admin_a1.username).await;
    let unit_list = format!("/units/{}/unregistered", w.unit_a1.id.0);
    let (_, home) = page(&unit, &app, "/").await;
    assert!(home.contains(&format!("href=\"{unit_list}\"")));
    let (_, show) = page(&unit, &app, &format!("/units/{}", w.unit_a1.id.0)).await;
    assert!(show.contains(&format!("href=\"{unit_list}\"")));
    let (status, html) = page(&unit, &app, &unit_list).await;
    assert_eq!(status, 200);
    assert!(html.contains("外居党员"));
}
both!(remind_all_skips_those_reminded_today);
