//! Every home page is a to-do list, and the phone navigation fits: at most five destinations per role (the rest
//! on 我的), no 返回 on top-level pages, no home tile that leads to a 403, and 待办 counts that follow the work.

use serde_json::json;

use crate::both;
use crate::support::web::{csrf_of, signed_in};
use crate::support::{Db, PASSWORD, TestApp, two_towns};

/// GETs a page, following one redirect (e.g. /places leads to the caller's own place).
async fn open(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    if res.status().as_u16() == 303
        && let Some(to) = res.headers().get("location")
    {
        let to = to.to_str().unwrap().to_string();
        let res = client.get(app.url(&to)).send().await.unwrap();
        return (res.status().as_u16(), res.text().await.unwrap());
    }
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The `href`s of the links inside the first element that starts with `open` (up to its closing `close`).
fn links_in(html: &str, open: &str, close: &str) -> Vec<String> {
    let Some(start) = html.find(open) else {
        return Vec::new();
    };
    let end = html[start..].find(close).map_or(html.len(), |e| start + e);
    html[start..end]
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

async fn navigation_fits_and_leads_somewhere(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let accounts = [
        &w.district_admin,
        &w.town_admin_a,
        &w.community_admin_a1,
        &w.grid_leader_a1,
        &w.unit_admin_a1,
        &w.member_a1,
        &w.resident_a1,
        &w.security_admin,
        &w.auditor,
    ];
    for a in accounts {
        let c = signed_in(&app, &a.username).await;
        let (status, home) = open(&c, &app, "/").await;
        assert_eq!(status, 200, "{}", a.username);
        let nav = links_in(&home, "<nav class=\"nav\"", "</nav>");
        assert!(
            (2..=5).contains(&nav.len()),
            "{}: {} destinations {nav:?}",
            a.username,
            nav.len()
        );
        assert_eq!(nav.first().map(String::as_str), Some("/"));
        assert_eq!(nav.last().map(String::as_str), Some("/account"));
        // Every destination, in the bar or under 我的, opens for this role, and a top-level page has no 返回.
        let (_, mine) = open(&c, &app, "/account").await;
        let more = links_in(&mine, "<nav class=\"card more\"", "</nav>");
        for href in nav.iter().chain(more.iter()) {
            let (status, html) = open(&c, &app, href).await;
            assert_eq!(status, 200, "{}: {href}", a.username);
            assert!(
                !html.contains("‹ 返回"),
                "{}: {href} is top-level",
                a.username
            );
        }
        // Home tiles and 待办 lead somewhere this role may go.
        for list in ["<ul class=\"stats\"", "<ul class=\"todo-list\""] {
            for href in links_in(&home, list, "</ul>") {
                let status = open(&c, &app, &href).await.0;
                assert_eq!(status, 200, "{}: home link {href}", a.username);
            }
        }
    }
}
both!(navigation_fits_and_leads_somewhere);

async fn home_pages_list_what_waits(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let admin = signed_in(&app, &w.community_admin_a1.username).await;
    let (_, home) = open(&admin, &app, "/").await;
    // Nothing to review yet; the two residents who have not registered lead to the 未报到名单.
    assert!(home.contains("待办") && !home.contains("待接收的党员报到"));
    assert!(
        home.contains(&format!(
            "href=\"/places/{}/unregistered\">本轮尚未报到的党员<strong>2</strong>",
            w.a1.id.0
        )),
        "{home}"
    );
    let member = signed_in(&app, &w.member_a1.username).await;
    let (_, home) = open(&member, &app, "/").await;
    assert!(
        home.contains("本轮次尚未报到"),
        "the member is told to register"
    );

    // The member registers; the community's home shows 待接收 1, the member's nothing to do.
    let token = app.token(&w.member_a1.username).await;
    let res = app
        .api()
        .post(app.url("/api/v1/registrations"))
        .bearer_auth(&token)
        .json(&json!({"community_id": w.a1.id.0.to_string(), "availability": ["weekend_morning"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let (_, home) = open(&admin, &app, "/").await;
    let todo = &home[home.find("id=\"todo\"").unwrap()..];
    assert!(
        todo.contains("待接收的党员报到<strong>1</strong>"),
        "{}",
        &todo[..todo.len().min(600)]
    );
    let (_, home) = open(&member, &app, "/").await;
    assert!(!home.contains("本轮次尚未报到"));
    // Another community has nothing to review.
    let other = signed_in(&app, &w.community_admin_b1.username).await;
    let (_, home) = open(&other, &app, "/").await;
    assert!(!home.contains("待接收的党员报到"));
    // A grid leader reviews nothing and has no 未报到名单: nothing waits.
    let grid = signed_in(&app, &w.grid_leader_a1.username).await;
    let (_, home) = open(&grid, &app, "/").await;
    assert!(home.contains("目前没有等待您处理的事项"));
}
both!(home_pages_list_what_waits);

async fn community_accepts_in_bulk(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let mut ids = Vec::new();
    for member in [&w.member_a1, &w.member_b1] {
        let token = app.token(&member.username).await;
        let res = app
            .api()
            .post(app.url("/api/v1/registrations"))
            .bearer_auth(&token)
            .json(&json!({"community_id": w.a1.id.0.to_string(), "availability": ["weekend_morning"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let body: serde_json::Value = res.json().await.unwrap();
        ids.push(body["id"].as_i64().unwrap());
    }
    let admin = signed_in(&app, &w.community_admin_a1.username).await;
    let (status, html) = open(&admin, &app, "/registrations").await;
    assert_eq!(status, 200);
    assert!(html.contains("批量接收") && html.contains("form=\"bulk\""));
    let csrf = csrf_of(&html);
    let grid = w.grid_a1.id.0.to_string();
    let mut form: Vec<(&str, String)> = vec![("_csrf", csrf.clone()), ("grid_id", grid.clone())];
    for id in &ids {
        form.push(("ids", id.to_string()));
    }
    let res = admin
        .post(app.url("/registrations/accept"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/registrations?ok=bulk_accepted");
    let reviewer = app.token(&w.community_admin_a1.username).await;
    for id in &ids {
        let (_, r) = app
            .get_json(&reviewer, &format!("/api/v1/registrations/{id}"))
            .await;
        assert_eq!(r["registration"]["status"], "accepted");
        assert_eq!(r["registration"]["grid_id"], w.grid_a1.id.0);
        assert!(r["registration"]["receipt_no"].is_string());
        // Each is audited as if accepted one by one.
        let audit = app
            .db
            .raw_strings(&format!(
                "SELECT action FROM audit_log WHERE target = 'registration:{id}' ORDER BY id"
            ))
            .await;
        assert_eq!(audit, ["registration.submit", "registration.accept"]);
    }
    // Again: nothing waits any more, so every one is refused and said so.
    let form: Vec<(&str, String)> = vec![
        ("_csrf", csrf),
        ("grid_id", grid),
        ("ids", ids[0].to_string()),
    ];
    let res = admin
        .post(app.url("/registrations/accept"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/registrations?ok=bulk_partial");
    // Another community's admin cannot accept them (404 each, reported as not accepted); a member is refused.
    let member = signed_in(&app, &w.member_a1.username).await;
    let (_, html) = open(&member, &app, "/account").await;
    let res = member
        .post(app.url("/registrations/accept"))
        .form(&[
            ("_csrf", csrf_of(&html)),
            ("grid_id", w.grid_a1.id.0.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}
both!(community_accepts_in_bulk);

async fn place_tree_shows_registration_rates(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    // One member of 甲一村 registers and is accepted; another registers and waits.
    for (member, accept) in [(&w.member_a1, true), (&w.member_b1, false)] {
        let token = app.token(&member.username).await;
        let community = if accept { &w.a1 } else { &w.b1 };
        let res = app
            .api()
            .post(app.url("/api/v1/registrations"))
            .bearer_auth(&token)
            .json(&json!({"community_id": community.id.0.to_string(), "availability": ["weekend_morning"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let id = res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        if accept {
            let admin = app.token(&w.community_admin_a1.username).await;
            let res = app
                .api()
                .post(app.url(&format!("/api/v1/registrations/{id}/accept")))
                .bearer_auth(&admin)
                .json(&json!({"grid_id": w.grid_a1.id.0}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200);
        }
    }
    let district = app.token(&w.district_admin.username).await;
    let mut total = 0;
    for (place, expected) in [
        (&w.district, 1),
        (&w.town_a, 1),
        (&w.town_b, 0),
        (&w.a1, 1),
        (&w.a2, 0),
        (&w.b1, 0),
        (&w.b2, 0),
    ] {
        let (status, s) = app
            .get_json(&district, &format!("/api/v1/places/{}", place.id.0))
            .await;
        assert_eq!(status, 200);
        // Recomputed from the rows: members living here with an accepted registration in the latest round.
        let recomputed = app
            .db
            .raw_strings(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM members m WHERE m.place_path LIKE '{}%' AND EXISTS \
                 (SELECT 1 FROM registrations r WHERE r.member_id = m.id AND r.status = 'accepted' \
                 AND r.round_id = (SELECT MAX(id) FROM rounds))",
                s["path"].as_str().unwrap()
            ))
            .await;
        assert_eq!(s["registered"], expected, "{}", place.name);
        assert_eq!(
            recomputed,
            [expected.to_string()],
            "{} recomputed",
            place.name
        );
        if place.id == w.district.id {
            total = s["members"].as_i64().unwrap();
        }
    }
    // The district page shows the same figures per town, with the rate.
    let c = signed_in(&app, &w.district_admin.username).await;
    let (_, html) = open(&c, &app, &format!("/places/{}", w.district.id.0)).await;
    let expected_rate = shanzhi_domain::registration::rate_label(1, total);
    assert!(
        html.contains(&expected_rate),
        "district rate {expected_rate}"
    );
    assert!(html.contains("报到率") && html.contains("未报到"));
    // A town admin's home shows its own rate.
    let c = signed_in(&app, &w.town_admin_b.username).await;
    let (_, html) = open(&c, &app, "/").await;
    assert!(html.contains("<strong>0.0%</strong>报到率"));
}
both!(place_tree_shows_registration_rates);

async fn member_logs_in_with_the_mobile_on_record(db: Db) {
    let (app, w) = two_towns(db).await;
    let full = app
        .store
        .reveal_member_personal(
            &shanzhi_store::Actor::system("test"),
            &shanzhi_domain::role::Scope::Everything,
            w.members_a1[0].id,
        )
        .await
        .unwrap();
    let res = app.api_login(&full.mobile, PASSWORD, None).await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "the registered mobile logs the member in"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    let (_, me) = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(me["username"], w.member_a1.username.as_str());
    // A member record without an account logs nobody in (and answers like any wrong name).
    let other = app
        .store
        .reveal_member_personal(
            &shanzhi_store::Actor::system("test"),
            &shanzhi_domain::role::Scope::Everything,
            w.members_a2[0].id,
        )
        .await
        .unwrap();
    let res = app.api_login(&other.mobile, PASSWORD, None).await;
    assert_eq!(res.status().as_u16(), 401);
}
both!(member_logs_in_with_the_mobile_on_record);

async fn a_password_given_by_someone_else_is_changed_first(db: Db) {
    let (app, w) = two_towns(db).await;
    let security = signed_in(&app, &w.security_admin.username).await;
    let path = format!("/accounts/{}", w.member_a1.id.0);
    let (_, html) = open(&security, &app, &path).await;
    let res = security
        .post(app.url(&format!("{path}/reset-password")))
        .form(&[("_csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.unwrap();
    let start = html
        .find("id=\"initial-password\">")
        .expect("the new password is shown once")
        + "id=\"initial-password\">".len();
    let password: String = html[start..].chars().take_while(|c| *c != '<').collect();
    // The API refuses a session until the member has chosen their own password …
    let res = app.api_login(&w.member_a1.username, &password, None).await;
    assert_eq!(res.status().as_u16(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "password_change_required");
    // … and the page login leads to the password change first.
    let member = app.browser();
    let (status, to) = app
        .web_login(&member, &w.member_a1.username, &password)
        .await;
    assert_eq!((status, to.as_str()), (303, "/login/password"));
    let (_, html) = open(&member, &app, "/login/password").await;
    let res = member
        .post(app.url("/login/password"))
        .form(&[
            ("_csrf", csrf_of(&html).as_str()),
            ("current", password.as_str()),
            ("new", "Mine#Own2026x"),
            ("confirm", "Mine#Own2026x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    // Their own password logs in straight away.
    let res = app
        .api_login(&w.member_a1.username, "Mine#Own2026x", None)
        .await;
    assert_eq!(res.status().as_u16(), 200);
}
both!(a_password_given_by_someone_else_is_changed_first);
