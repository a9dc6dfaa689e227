//! 报到接收 for members through the pages and the JSON API: the phone form → the community's queue → accept into
//! a grid → receipt for the member and the home unit; illegal transitions (409), scope (404), one registration
//! per round under concurrent submissions, returns need a reason, rounds close and carry over, the member card.

use serde_json::{Value, json};
use shanzhi_domain::MemberId;
use shanzhi_domain::role::Scope;

use crate::both;
use crate::support::web::{page, post_form, post_json, signed_in};
use crate::support::{Db, PASSWORD, TestApp, two_towns};

async fn place_id(app: &TestApp, code: &str) -> i64 {
    app.store.place_by_code(code).await.unwrap().unwrap().id
}

/// The member record behind a member account.
async fn member_of(app: &TestApp, username: &str) -> i64 {
    let token = app.token(username).await;
    let (status, me) = app.get_json(&token, "/api/v1/members").await;
    assert_eq!(status, 200);
    me["items"][0]["id"].as_i64().unwrap()
}

/// member_a1 registers with 甲一村 through the API; returns the registration id.
async fn wang_submits(app: &TestApp) -> i64 {
    let token = app.token("member_a1").await;
    let fanjia = place_id(app, "a1").await;
    let (status, body) = post_json(
        app,
        &token,
        "/api/v1/registrations",
        json!({"community_id": fanjia.to_string(), "skills": ["forestry"], "intentions": ["environment"],
               "availability": ["weekend_morning"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn member_registers_on_the_page_and_is_accepted(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let fanjia = place_id(&app, "a1").await.to_string();
    let grid = place_id(&app, "a1g1").await.to_string();
    let wang = signed_in(&app, "member_a1").await;

    // The form: community search, skills, intentions, availability.
    let (status, html) = page(&wang, &app, "/my/registration?q=甲一").await;
    assert_eq!(status, 200);
    assert!(html.contains("甲一村") && html.contains("提交报到") && html.contains("周末上午"));
    // A missing community re-shows the form with the error beside the field and what was typed.
    let (status, _, html) = post_form(
        &wang,
        &app,
        "/my/registration",
        "/my/registration",
        &[("skills", "forestry"), ("availability", "weekend_morning")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("此项必填"));
    assert!(html.contains("value=\"weekend_morning\" checked"));
    let (status, loc, _) = post_form(
        &wang,
        &app,
        "/my/registration",
        "/my/registration",
        &[
            ("community_id", fanjia.as_str()),
            ("skills", "forestry"),
            ("intentions", "environment"),
            ("availability", "weekend_morning"),
            ("availability", "weekday_evening"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/my/registration?ok=submitted")
    );
    let (_, html) = page(&wang, &app, "/my/registration").await;
    assert!(html.contains("待接收") && html.contains("甲一村"));
    assert!(
        !html.contains("提交报到"),
        "no second form while one is active"
    );

    // It waits in 甲一村's queue.
    let admin = signed_in(&app, "community_admin_a1").await;
    let token = app.token("community_admin_a1").await;
    let (_, list) = app
        .get_json(&token, "/api/v1/registrations?status=submitted")
        .await;
    assert_eq!(list["total"], 1);
    let id = list["items"][0]["id"].as_i64().unwrap();
    let name = list["items"][0]["member_name"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, html) = page(&admin, &app, "/registrations").await;
    assert_eq!(status, 200);
    assert!(html.contains(&name) && html.contains(&format!("/registrations/{id}")));
    // Another community's queue does not show it.
    let jiaxiao = signed_in(&app, "community_admin_b1").await;
    let (_, html) = page(&jiaxiao, &app, "/registrations").await;
    assert!(!html.contains(&format!("/registrations/{id}\"")));
    assert_eq!(
        page(&jiaxiao, &app, &format!("/registrations/{id}"))
            .await
            .0,
        404
    );

    // Returning needs a reason: the form comes back with the error.
    let detail = format!("/registrations/{id}");
    let (status, _, html) = post_form(
        &admin,
        &app,
        &detail,
        &format!("/registrations/{id}/return"),
        &[("reason", "  ")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("退回时请填写原因") && html.contains("id=\"return\""));
    // Accepting needs a grid of this community.
    let (status, _, html) = post_form(
        &admin,
        &app,
        &detail,
        &format!("/registrations/{id}/accept"),
        &[("grid_id", "")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("接收时请选择所在网格"));
    // The town admin sees the registration read-only.
    let malu = signed_in(&app, "town_admin_a").await;
    let (status, html) = page(&malu, &app, &detail).await;
    assert_eq!(status, 200);
    assert!(!html.contains("id=\"accept\""));
    let (status, _, _) = post_form(
        &malu,
        &app,
        &detail,
        &format!("/registrations/{id}/accept"),
        &[("grid_id", grid.as_str())],
    )
    .await;
    assert_eq!(status, 403);

    let (status, loc, _) = post_form(
        &admin,
        &app,
        &detail,
        &format!("/registrations/{id}/accept"),
        &[("grid_id", grid.as_str())],
    )
    .await;
    assert_eq!((status, loc), (303, format!("{detail}?ok=accepted")));
    let (_, html) = page(&admin, &app, &detail).await;
    assert!(html.contains("已接收") && html.contains("甲一村第一网格"));

    // The receipt: the member, the home unit's admin (单位甲一) and the places above see it; others do not.
    let receipt = format!("/registrations/{id}/receipt");
    let (status, html) = page(&wang, &app, &receipt).await;
    assert_eq!(status, 200);
    assert!(html.contains("HZ2026-") && html.contains("甲一村第一网格"));
    let linye = signed_in(&app, "unit_admin_a1").await;
    let (status, html) = page(&linye, &app, &receipt).await;
    assert_eq!(status, 200);
    assert!(html.contains("HZ2026-") && html.contains(&name));
    // A paper: addressed to the home unit's party organisation, issued by the community with a seal line.
    assert!(
        html.contains("单位甲一党支部:")
            && html.contains("甲一村党组织(盖章)")
            && html.contains("data-print")
    );
    assert_eq!(page(&malu, &app, &receipt).await.0, 200);
    let weijian = signed_in(&app, "unit_admin_b1").await;
    assert_eq!(page(&weijian, &app, &receipt).await.0, 404);
    assert_eq!(page(&jiaxiao, &app, &receipt).await.0, 404);
    // The grid leader of the grid now sees it.
    let grid1 = signed_in(&app, "grid_leader_a1").await;
    let (_, html) = page(&grid1, &app, "/registrations").await;
    assert!(html.contains(&name));

    // The unit's overview: who registered where, who has not, the rate, links to receipts.
    let linye_token = app.token("unit_admin_a1").await;
    let (_, units) = app.get_json(&linye_token, "/api/v1/units").await;
    let unit = units["items"][0]["id"].as_i64().unwrap();
    let (status, html) = page(&linye, &app, &format!("/units/{unit}/registrations")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&name) && html.contains(&receipt) && html.contains("未报到"));
    assert!(html.contains("报到率"));
    let (_, html) = page(&linye, &app, &format!("/units/{unit}")).await;
    assert!(html.contains(&format!("/units/{unit}/registrations")));
    assert_eq!(
        page(&weijian, &app, &format!("/units/{unit}/registrations"))
            .await
            .0,
        404
    );
    let (status, rate) = app
        .get_json(
            &linye_token,
            &format!("/api/v1/units/{unit}/registration-rate"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rate["accepted"], 1);
    assert!(rate["rate"].as_f64().unwrap() > 0.0);
}
both!(member_registers_on_the_page_and_is_accepted);

async fn illegal_transitions_and_scope_through_the_api(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let id = wang_submits(&app).await;
    let wang = app.token("member_a1").await;
    let fanjia = app.token("community_admin_a1").await;
    let jiaxiao = app.token("community_admin_b1").await;
    let grid = place_id(&app, "a1g1").await;
    let other_grid = place_id(&app, "b1g1").await;
    let accept = format!("/api/v1/registrations/{id}/accept");

    // Confirming a registration that was not carried over is illegal.
    let (status, body) = post_json(
        &app,
        &wang,
        &format!("/api/v1/registrations/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    // Another community's admin does not see it: 404, not 403.
    let (status, body) = post_json(&app, &jiaxiao, &accept, json!({"grid_id": other_grid})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    // A member may not accept; a town admin may not either.
    let (status, _) = post_json(&app, &wang, &accept, json!({"grid_id": grid})).await;
    assert_eq!(status, 403);
    let malu = app.token("town_admin_a").await;
    let (status, _) = post_json(&app, &malu, &accept, json!({"grid_id": grid})).await;
    assert_eq!(status, 403);
    // Returning needs a reason; accepting needs one of this community's grids.
    let (status, body) = post_json(
        &app,
        &fanjia,
        &format!("/api/v1/registrations/{id}/return"),
        json!({"reason": ""}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("reason_required"))
    );
    let (status, body) = post_json(&app, &fanjia, &accept, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("grid_required"))
    );
    let (status, body) = post_json(&app, &fanjia, &accept, json!({"grid_id": other_grid})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_grid"))
    );

    let (status, body) = post_json(&app, &fanjia, &accept, json!({"grid_id": grid})).await;
    assert_eq!(status, 200, "{body}");
    let receipt_no = body["receipt_no"].as_str().unwrap().to_string();
    assert!(receipt_no.starts_with("HZ2026-"));
    // Now accepting or returning again is illegal, and a second registration is refused.
    let (status, body) = post_json(&app, &fanjia, &accept, json!({"grid_id": grid})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let (status, body) = post_json(
        &app,
        &fanjia,
        &format!("/api/v1/registrations/{id}/return"),
        json!({"reason": "重复"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let jiaxiao_place = place_id(&app, "b1").await;
    let (status, body) = post_json(
        &app,
        &wang,
        "/api/v1/registrations",
        json!({"community_id": jiaxiao_place.to_string()}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("already_registered"))
    );

    // The receipt for the member and the home unit; not for another unit.
    let path = format!("/api/v1/registrations/{id}/receipt");
    let (status, rc) = app.get_json(&wang, &path).await;
    assert_eq!(
        (status, rc["receipt_no"].as_str()),
        (200, Some(receipt_no.as_str()))
    );
    let linye = app.token("unit_admin_a1").await;
    assert_eq!(app.get_json(&linye, &path).await.0, 200);
    let weijian = app.token("unit_admin_b1").await;
    assert_eq!(app.get_json(&weijian, &path).await.0, 404);

    // Moving house: transfer to 乙一村; both sides stay in the history.
    let (status, body) = post_json(
        &app,
        &wang,
        &format!("/api/v1/registrations/{id}/transfer"),
        json!({"community_id": jiaxiao_place}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let new_id = body["id"].as_i64().unwrap();
    let (_, old) = app
        .get_json(&wang, &format!("/api/v1/registrations/{id}"))
        .await;
    // The old registration stays accepted until the new community accepts (新社区接收后生效).
    assert_eq!(old["registration"]["status"], "accepted");
    let steps: Vec<String> = old["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        steps,
        ["submitted", "accepted", "accepted", "transfer_pending"]
    );
    // History names people, not login names.
    let fanjia = app
        .store
        .find_login("community_admin_a1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old["history"][1]["actor"], fanjia.display_name.as_str());
    // A second transfer waits its turn; the new one waits in 乙一村's queue as 转入.
    let (status, body) = post_json(
        &app,
        &wang,
        &format!("/api/v1/registrations/{id}/transfer"),
        json!({"community_id": jiaxiao_place}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("transfer_already_pending"))
    );
    let (_, queue) = app
        .get_json(&jiaxiao, "/api/v1/registrations?status=submitted")
        .await;
    assert_eq!(queue["items"][0]["id"].as_i64(), Some(new_id));
    assert_eq!(queue["items"][0]["status"], "transfer_pending");
    let jgrid = place_id(&app, "b1g1").await;
    let (status, _) = post_json(
        &app,
        &jiaxiao,
        &format!("/api/v1/registrations/{new_id}/accept"),
        json!({"grid_id": jgrid}),
    )
    .await;
    assert_eq!(status, 200);
    // Accepting the transfer released the old registration; transferred out is terminal.
    let (_, old) = app
        .get_json(&wang, &format!("/api/v1/registrations/{id}"))
        .await;
    assert_eq!(old["registration"]["status"], "transferred_out");
    let (status, body) = post_json(
        &app,
        &wang,
        &format!("/api/v1/registrations/{id}/withdraw"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    // The member withdraws; it is recorded, not deleted.
    let (status, body) = post_json(
        &app,
        &wang,
        &format!("/api/v1/registrations/{new_id}/withdraw"),
        json!({}),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("withdrawn")));
    let (_, mine) = app.get_json(&wang, "/api/v1/registrations").await;
    assert_eq!(mine["total"], 2);
}
both!(illegal_transitions_and_scope_through_the_api);

async fn concurrent_submissions_leave_one_registration(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let token = app.token("member_b1").await;
    let community = place_id(&app, "b1").await.to_string();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = app.api();
        let url = app.url("/api/v1/registrations");
        let token = token.clone();
        let body = json!({"community_id": community, "availability": ["weekday_evening"]});
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let v: Value = res.json().await.unwrap_or(Value::Null);
            (status, v["error"]["code"].as_str().map(str::to_string))
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => created += 1,
            (409, Some(code)) => assert_eq!(code, "already_registered"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 1);
    let (_, mine) = app.get_json(&token, "/api/v1/registrations").await;
    assert_eq!(mine["total"], 1);
    // Only a member submits for themself.
    let admin = app.token("community_admin_b1").await;
    let (status, _) = post_json(
        &app,
        &admin,
        "/api/v1/registrations",
        json!({"community_id": community}),
    )
    .await;
    assert_eq!(status, 403);
}
both!(concurrent_submissions_leave_one_registration);

async fn rounds_close_and_carry_over(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let wang_reg = wang_submits(&app).await;
    let fanjia = app.token("community_admin_a1").await;
    let grid = place_id(&app, "a1g1").await;
    let (status, _) = post_json(
        &app,
        &fanjia,
        &format!("/api/v1/registrations/{wang_reg}/accept"),
        json!({"grid_id": grid}),
    )
    .await;
    assert_eq!(status, 200);
    let li = app.token("member_b1").await;
    let jiaxiao = place_id(&app, "b1").await.to_string();
    let (status, body) = post_json(
        &app,
        &li,
        "/api/v1/registrations",
        json!({"community_id": jiaxiao}),
    )
    .await;
    assert_eq!(status, 201);
    let li_reg = body["id"].as_i64().unwrap();

    // Only the district manages rounds.
    let admin = signed_in(&app, "community_admin_a1").await;
    assert_eq!(page(&admin, &app, "/rounds").await.0, 403);
    let qu = signed_in(&app, "district_admin").await;
    let (status, html) = page(&qu, &app, "/rounds").await;
    assert_eq!(status, 200);
    assert!(html.contains("2026年度") && html.contains("data-confirm"));
    let qu_token = app.token("district_admin").await;
    let (_, rounds) = app.get_json(&qu_token, "/api/v1/rounds").await;
    let round = rounds[0]["id"].as_i64().unwrap();
    // A second open round is refused.
    let (status, body) = post_json(
        &app,
        &qu_token,
        "/api/v1/rounds",
        json!({"name": "x", "year": "2026",
        "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("round_overlap"))
    );

    let (status, loc, _) =
        post_form(&qu, &app, "/rounds", &format!("/rounds/{round}/close"), &[]).await;
    assert_eq!((status, loc.as_str()), (303, "/rounds?ok=round_closed"));
    // The pending registration expired (recorded, not deleted).
    let (_, r) = app
        .get_json(&li, &format!("/api/v1/registrations/{li_reg}"))
        .await;
    assert_eq!(r["registration"]["status"], "expired");
    // Without an open round the member sees an empty state and the API refuses.
    let wang = signed_in(&app, "member_a1").await;
    let (_, html) = page(&wang, &app, "/my/registration").await;
    assert!(html.contains("当前没有开放的报到轮次"));

    // The new-round form validates dates and re-shows them.
    let (status, _, html) = post_form(
        &qu,
        &app,
        "/rounds/new",
        "/rounds/new",
        &[
            ("name", "2027年度"),
            ("year", "2027"),
            ("starts_on", "2027-12-31"),
            ("ends_on", "2027-01-01"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("结束日期不能早于开始日期") && html.contains("2027-12-31"));
    let (status, loc, _) = post_form(
        &qu,
        &app,
        "/rounds/new",
        "/rounds/new",
        &[
            ("name", "2027年度"),
            ("year", "2027"),
            ("starts_on", "2027-01-01"),
            ("ends_on", "2027-12-31"),
            ("carry_over", "on"),
        ],
    )
    .await;
    assert_eq!((status, loc.as_str()), (303, "/rounds?ok=round_opened"));

    // 王's accepted registration was carried over; 李's expired one was not.
    let (_, html) = page(&wang, &app, "/my/registration").await;
    assert!(html.contains("确认延续本轮报到"));
    let wang_token = app.token("member_a1").await;
    let (_, rounds) = app.get_json(&wang_token, "/api/v1/rounds").await;
    let new_round = rounds[0]["id"].as_i64().unwrap();
    let (_, mine) = app
        .get_json(
            &wang_token,
            &format!("/api/v1/registrations?round_id={new_round}"),
        )
        .await;
    assert_eq!(mine["items"][0]["status"], "carried");
    let carried = mine["items"][0]["id"].as_i64().unwrap();
    let (_, lis) = app
        .get_json(&li, &format!("/api/v1/registrations?round_id={new_round}"))
        .await;
    assert_eq!(lis["total"], 0);
    // The member confirms through the page; the new receipt is this round's.
    let (status, loc, _) = post_form(
        &wang,
        &app,
        "/my/registration",
        &format!("/registrations/{carried}/confirm"),
        &[],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/my/registration?ok=confirmed")
    );
    let (_, rc) = app
        .get_json(
            &wang_token,
            &format!("/api/v1/registrations/{carried}/receipt"),
        )
        .await;
    assert!(rc["receipt_no"].as_str().unwrap().starts_with("HZ2027-"));
}
both!(rounds_close_and_carry_over);

async fn member_card_is_public_until_switched_off(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let mid = member_of(&app, "member_a1").await;
    let wang = signed_in(&app, "member_a1").await;
    let card = format!("/members/{mid}/card");
    // No card before the registration is accepted.
    let (status, html) = page(&wang, &app, &card).await;
    assert_eq!(status, 200);
    assert!(html.contains("报到被社区接收并编入网格后") && !html.contains("<svg"));
    assert_eq!(page(&app.browser(), &app, "/card/not-a-token").await.0, 404);

    let id = wang_submits(&app).await;
    let fanjia = app.token("community_admin_a1").await;
    let grid = place_id(&app, "a1g1").await;
    let (status, _) = post_json(
        &app,
        &fanjia,
        &format!("/api/v1/registrations/{id}/accept"),
        json!({"grid_id": grid}),
    )
    .await;
    assert_eq!(status, 200);

    let (status, html) = page(&wang, &app, &card).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<svg") && html.contains("甲一村第一网格") && html.contains("单位甲一党支部")
    );
    let start = html.find("/card/").unwrap() + "/card/".len();
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "a random 256-bit token, not the member id");
    let public = format!("/card/{token}");

    // Anyone (no login) sees the public card: name, party org, community, grid; never the mobile or ID number.
    let anonymous = app.browser();
    let (status, html) = page(&anonymous, &app, &public).await;
    assert_eq!(status, 200);
    let m = app
        .store
        .get_member(&Scope::Everything, MemberId(mid))
        .await
        .unwrap();
    let full = app
        .store
        .reveal_member_personal(
            &shanzhi_store::Actor::system("test"),
            &Scope::Everything,
            MemberId(mid),
        )
        .await
        .unwrap();
    // The name is masked (the card is public); the round, status and the time of the check show it is current.
    assert!(
        html.contains(&shanzhi_domain::mask::name(&m.name))
            && !html.contains(&m.name)
            && html.contains("甲一村第一网格")
            && html.contains("单位甲一党支部")
            && html.contains("2026年度")
            && html.contains("已报到")
            && html.contains("核验时间")
    );
    assert!(!html.contains(&full.mobile) && !html.contains(&m.mobile_masked));
    if let Some(id_card) = &full.id_card {
        assert!(!html.contains(id_card.as_str()));
    }
    // Admins in scope see the card page; others get 404; only the member switches it.
    let admin = signed_in(&app, "community_admin_a1").await;
    let (status, html) = page(&admin, &app, &card).await;
    assert_eq!(status, 200);
    assert!(!html.contains("关闭公开卡片"));
    let li = signed_in(&app, "member_b1").await;
    assert_eq!(page(&li, &app, &card).await.0, 404);
    let (status, _, _) =
        post_form(&li, &app, "/my/registration", &card, &[("public", "off")]).await;
    assert_eq!(status, 404);
    let (status, _, _) =
        post_form(&admin, &app, "/registrations", &card, &[("public", "off")]).await;
    assert_eq!(status, 403);

    // Switched off: 404 for everyone; on again: visible.
    let (status, loc, _) = post_form(&wang, &app, &card, &card, &[("public", "off")]).await;
    assert_eq!((status, loc), (303, format!("{card}?ok=card_off")));
    assert_eq!(page(&anonymous, &app, &public).await.0, 404);
    let (status, _, _) = post_form(&wang, &app, &card, &card, &[("public", "on")]).await;
    assert_eq!(status, 303);
    assert_eq!(page(&anonymous, &app, &public).await.0, 200);
    // The form needs the CSRF token.
    let res = wang
        .post(app.url(&card))
        .form(&[("public", "off")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A withdrawn registration takes the card down.
    let wang_token = app.token("member_a1").await;
    let (status, _) = post_json(
        &app,
        &wang_token,
        &format!("/api/v1/registrations/{id}/withdraw"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page(&anonymous, &app, &public).await.0, 404);
}
both!(member_card_is_public_until_switched_off);

async fn community_qr_presets_the_form(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let jiaxiao = place_id(&app, "b1").await;
    // Anonymous: the QR page remembers the community and asks to log in.
    let client = app.browser();
    let (status, html) = page(&client, &app, "/join/b1").await;
    assert_eq!(status, 200);
    assert!(html.contains("乙一村") && html.contains("/login"));
    assert_eq!(page(&client, &app, "/join/no_such_place").await.0, 404);
    assert_eq!(
        page(&client, &app, "/join/ta").await.0,
        404,
        "towns have no QR"
    );
    // Logging in from there leads straight to the form, with the community chosen.
    let (status, to) = app.web_login(&client, "member_b1", PASSWORD).await;
    assert_eq!((status, to.as_str()), (303, "/my/registration"));
    let (_, html) = page(&client, &app, "/my/registration").await;
    assert!(html.contains(&format!("<option value=\"{jiaxiao}\" selected>乙一村")));
    // Signed in, the QR leads straight to the form.
    let (status, _) = {
        let res = client.get(app.url("/join/b1")).send().await.unwrap();
        (res.status().as_u16(), ())
    };
    assert_eq!(status, 303);
    // Without a QR code, or for staff, login leads home as before.
    let plain = app.browser();
    let (_, to) = app.web_login(&plain, "member_b1", PASSWORD).await;
    assert_eq!(to, "/");
    let staff = app.browser();
    assert_eq!(page(&staff, &app, "/join/b1").await.0, 200);
    let (_, to) = app.web_login(&staff, "community_admin_b1", PASSWORD).await;
    assert_eq!(to, "/", "staff have no registration form");
    // The community admin prints the QR code.
    let admin = signed_in(&app, "community_admin_b1").await;
    let (status, html) = page(&admin, &app, "/registrations/qr").await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg") && html.contains("/join/b1"));
    // … or downloads it as SVG or PNG for a print shop.
    for (path, kind, magic) in [
        ("/registrations/qr.svg", "image/svg+xml", &b"<svg"[..]),
        ("/registrations/qr.png", "image/png", &b"\x89PNG"[..]),
    ] {
        let res = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], kind);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("join-b1")
        );
        let body = res.bytes().await.unwrap();
        assert!(body.windows(magic.len()).any(|w| w == magic), "{path}");
    }
    // Members have no community QR to print.
    let member = signed_in(&app, "member_b1").await;
    assert_eq!(page(&member, &app, "/registrations/qr.png").await.0, 403);
}
both!(community_qr_presets_the_form);

async fn returned_registration_is_corrected_and_resubmitted(db: Db) {
    let (app, w) = two_towns(db).await;
    w.world.open_round("2026年度", 2026).await;
    let id = wang_submits(&app).await;
    let admin = signed_in(&app, "community_admin_a1").await;
    let detail = format!("/registrations/{id}");
    let (status, loc, _) = post_form(
        &admin,
        &app,
        &detail,
        &format!("{detail}/return"),
        &[("reason", "请选择实际居住的社区")],
    )
    .await;
    assert_eq!((status, loc.as_str()), (303, "/registrations?ok=returned"));
    // The member sees the reason and the form, filled with what they sent before.
    let wang = signed_in(&app, "member_a1").await;
    let (_, html) = page(&wang, &app, "/my/registration").await;
    assert!(html.contains("请选择实际居住的社区") && html.contains("重新提交"));
    assert!(html.contains(&format!("name=\"registration_id\" value=\"{id}\"")));
    assert!(html.contains("value=\"weekend_morning\" checked"));
    // ... but never with the community that returned it.
    let fanjia = place_id(&app, "a1").await;
    assert!(
        !html.contains(&format!("value=\"{fanjia}\" selected")),
        "the returning community is preselected"
    );
    let jiaxiao = place_id(&app, "b1").await.to_string();
    let (status, loc, _) = post_form(
        &wang,
        &app,
        "/my/registration",
        "/my/registration",
        &[
            ("registration_id", id.to_string().as_str()),
            ("community_id", jiaxiao.as_str()),
            ("availability", "weekday_evening"),
        ],
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (303, "/my/registration?ok=submitted")
    );
    // The same registration, now in 乙一村's queue; 甲一村 no longer sees it.
    let token = app.token("community_admin_b1").await;
    let (_, queue) = app
        .get_json(&token, "/api/v1/registrations?status=submitted")
        .await;
    assert_eq!(queue["items"][0]["id"].as_i64(), Some(id));
    assert_eq!(page(&admin, &app, &detail).await.0, 404);
}
both!(returned_registration_is_corrected_and_resubmitted);
