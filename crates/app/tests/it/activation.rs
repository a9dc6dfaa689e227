//! Getting in (issue 8.1): a member on a roster activates their own account with name + mobile + the last six of
//! the ID number or an activation code, then sets a password; unit and community admins issue activation sheets
//! for the members in their scope who have no account yet.

use serde_json::{Value, json};
use shanzhi_domain::activation::MAX_SHEET;
use shanzhi_domain::password::{MAX_ADDRESS_FAILURES, MAX_FAILURES};
use shanzhi_domain::validate::id_card_check_char;

use crate::both;
use crate::support::fixtures::{Member, TwoTowns};
use crate::support::web::{page, post_form, signed_in};
use crate::support::{Db, TestApp, two_towns};

const NEW_PASSWORD: &str = "Jihuo#2026";
const MOBILE: &str = "13900001234";

fn id_card() -> String {
    let first = "31011419900101123";
    format!("{first}{}", id_card_check_char(first).unwrap())
}

fn id_last6() -> String {
    let id = id_card();
    id[id.len() - 6..].to_string()
}

/// The two towns plus 陈晓梅, imported by 单位甲一 (living in 甲一村) with her ID number, without an account.
async fn world(db: Db) -> (TestApp, TwoTowns, Member) {
    let (app, mut w) = two_towns(db).await;
    let unit = w.unit_a1.clone();
    let a1 = w.a1.clone();
    let m = w
        .world
        .member_with("陈晓梅", &unit, &a1, MOBILE, Some(&id_card()))
        .await;
    (app, w, m)
}

async fn activate(app: &TestApp, name: &str, mobile: &str, factor: &str) -> (u16, Value) {
    let res = app
        .api()
        .post(app.url("/api/v1/activation"))
        .json(&json!({"name": name, "mobile": mobile, "factor": factor,
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn code_of(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("ok")
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.db
        .raw_strings("SELECT action || ':' || result FROM audit_log ORDER BY id")
        .await
}

/// The codes on a printed activation sheet, in order.
fn slip_codes(html: &str) -> Vec<String> {
    html.split("<strong>")
        .skip(1)
        .filter_map(|s| s.split("</strong>").next())
        .filter(|c| c.len() == 9 && c.as_bytes()[4] == b'-')
        .map(String::from)
        .collect()
}

async fn issue_sheet(app: &TestApp, username: &str, q: &str) -> (String, Vec<String>) {
    let c = signed_in(app, username).await;
    let (status, _, html) = post_form(
        &c,
        app,
        "/activation-codes",
        "/activation-codes",
        &[("q", q), ("format", "print")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let codes = slip_codes(&html);
    (html, codes)
}

async fn activation_by_id_last6(db: Db) {
    let (app, w, m) = world(db).await;
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!(status, 201, "{v}");
    let token = v["token"].as_str().unwrap();
    let (status, me) = app.get_json(token, "/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "member");
    assert_eq!(me["display_name"], "陈晓梅");
    // Bound to her record: she sees it, and not another member's.
    let (status, mine) = app
        .get_json(token, &format!("/api/v1/members/{}", m.id.0))
        .await;
    assert_eq!((status, mine["name"].as_str()), (200, Some("陈晓梅")));
    let other = &w.members_a1[1];
    let (status, _) = app
        .get_json(token, &format!("/api/v1/members/{}", other.id.0))
        .await;
    assert_eq!(status, 404);
    // She logs in with her mobile and the password she chose.
    let res = app.api_login(MOBILE, NEW_PASSWORD, None).await;
    assert_eq!(res.status(), 200);
    // Once only.
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (409, "already_activated"));
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"account.activate:ok".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"activation:denied:already_activated".to_string()),
        "{actions:?}"
    );
}
both!(activation_by_id_last6);

async fn mismatches_answer_alike(db: Db) {
    let (app, w, _) = world(db).await;
    let six = id_last6();
    let wrong: [(&str, &str, &str); 4] = [
        ("陈晓梅", MOBILE, "000000"),    // wrong ID tail
        ("陈晓", MOBILE, &six),          // wrong name
        ("陈晓梅", "13900009999", &six), // nobody has this mobile
        ("陈晓梅", MOBILE, "K7QM-3XPA"), // a code never issued
    ];
    let mut bodies = Vec::new();
    for (name, mobile, factor) in wrong {
        let (status, v) = activate(&app, name, mobile, factor).await;
        assert_eq!(
            (status, code_of(&v)),
            (401, "activation_failed"),
            "{name} {mobile} {factor}"
        );
        bodies.push(v);
    }
    assert!(
        bodies.windows(2).all(|b| b[0] == b[1]),
        "one answer for every mismatch"
    );
    // A member with no ID number on file cannot use one.
    let no_id = &w.members_a1[1];
    let (status, v) = activate(&app, &no_id.name, &no_id.mobile, "000000").await;
    assert_eq!((status, code_of(&v)), (401, "activation_failed"));
    // Form checks come first and cost no attempt.
    let (status, v) = activate(&app, "", "123", "?").await;
    assert_eq!((status, code_of(&v)), (422, "validation_failed"));
    // The district may require the code for everyone.
    app.store
        .set_setting("activation_factor", "code")
        .await
        .unwrap();
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (422, "invalid_activation_factor"));
    // A weak password creates nothing.
    app.store
        .set_setting("activation_factor", "id_last6_or_code")
        .await
        .unwrap();
    let res = app
        .api()
        .post(app.url("/api/v1/activation"))
        .json(
            &json!({"name": "陈晓梅", "mobile": MOBILE, "factor": id_last6(),
            "password": "weak", "confirm": "weak"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["fields"][0]["code"], "weak_password");
    let (status, _) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!(status, 201);
}
both!(mismatches_answer_alike);

async fn activation_by_code_on_the_page(db: Db) {
    let (app, w, m) = world(db).await;
    // The unit admin prints a sheet for her; a second sheet replaces the first code.
    let (_, old) = issue_sheet(&app, &w.unit_admin_a1.username, "陈晓梅").await;
    let (html, new) = issue_sheet(&app, &w.unit_admin_a1.username, "陈晓梅").await;
    assert_eq!((old.len(), new.len()), (1, 1), "{html}");
    assert!(
        html.contains("陈*梅") && !html.contains("陈晓梅"),
        "names are masked on slips"
    );
    assert!(html.contains("/activate"));
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &old[0]).await;
    assert_eq!(
        (status, code_of(&v)),
        (401, "activation_failed"),
        "the older code stopped working"
    );

    // Step 1 and step 2 on the page, lower-case code typed without the dash.
    let c = app.browser();
    let typed = new[0].replace('-', "").to_lowercase();
    let (status, _, html) = post_form(
        &c,
        &app,
        "/activate",
        "/activate",
        &[
            ("step", "check"),
            ("name", "陈晓梅"),
            ("mobile", MOBILE),
            ("factor", &typed),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("设置密码"), "{html}");
    let (status, loc, html) = post_form(
        &c,
        &app,
        "/activate",
        "/activate",
        &[
            ("step", "password"),
            ("name", "陈晓梅"),
            ("mobile", MOBILE),
            ("factor", &typed),
            ("password", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!((status, loc.as_str()), (303, "/?ok=activated"), "{html}");
    let (status, home) = page(&c, &app, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("陈晓梅"));
    let n = app
        .db
        .raw_strings(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM accounts WHERE member_id = {} AND username = 'member{}'",
            m.id.0, m.id.0
        ))
        .await;
    assert_eq!(n, ["1"]);
    let used = app
        .db
        .raw_strings(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM activation_codes WHERE member_id = {} AND used_at IS NOT NULL",
            m.id.0
        ))
        .await;
    assert_eq!(used, ["1"], "the code is used up");
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"activation_code.issue:ok".to_string()));
    assert!(actions.contains(&"account.activate:ok".to_string()));
    // She is not on the list any more.
    let admin = signed_in(&app, &w.unit_admin_a1.username).await;
    let (_, list) = page(&admin, &app, "/activation-codes").await;
    assert!(!list.contains("陈晓梅"));
}
both!(activation_by_code_on_the_page);

async fn codes_expire(db: Db) {
    let (app, w, _) = world(db).await;
    let (_, codes) = issue_sheet(&app, &w.community_admin_a1.username, "陈晓梅").await;
    app.db
        .raw_exec("UPDATE activation_codes SET expires_at = 1")
        .await;
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &codes[0]).await;
    assert_eq!((status, code_of(&v)), (401, "activation_code_expired"));
    // Someone without the right code learns nothing about it.
    let (status, v) = activate(&app, "陈晓梅", MOBILE, "K7QM-3XPA").await;
    assert_eq!((status, code_of(&v)), (401, "activation_failed"));
}
both!(codes_expire);

async fn failures_are_limited_per_mobile(db: Db) {
    let (app, _, _) = world(db).await;
    for _ in 0..MAX_FAILURES {
        let (status, _) = activate(&app, "陈晓梅", MOBILE, "000000").await;
        assert_eq!(status, 401);
    }
    // Now even the right factor waits.
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (429, "rate_limited"));
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"activation:denied:rate_limited".to_string()));
}
both!(failures_are_limited_per_mobile);

async fn failures_are_limited_per_address(db: Db) {
    let (app, _, _) = world(db).await;
    for i in 0..MAX_ADDRESS_FAILURES {
        let mobile = format!("1370000{:04}", i);
        let (status, _) = activate(&app, "某某", &mobile, "000000").await;
        assert_eq!(status, 401);
    }
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (429, "rate_limited"));
}
both!(failures_are_limited_per_address);

async fn sheets_cover_only_the_admins_roster(db: Db) {
    let (app, mut w, _) = world(db).await;
    // A member of 单位乙一 living in 甲一村: on 甲一村's sheet and 单位乙一's, not on 单位甲一's.
    let (unit_b1, a1) = (w.unit_b1.clone(), w.a1.clone());
    let commuter = w.world.member("周敏", &unit_b1, &a1).await;
    let list = |username: String| {
        let app = &app;
        async move {
            let c = signed_in(app, &username).await;
            page(&c, app, "/activation-codes").await
        }
    };
    let (status, unit_a1) = list(w.unit_admin_a1.username.clone()).await;
    assert_eq!(status, 200);
    assert!(unit_a1.contains("陈晓梅") && !unit_a1.contains("周敏"));
    assert!(
        !unit_a1.contains(&w.members_a1[0].name),
        "a member with an account is not listed"
    );
    assert!(unit_a1.contains(&w.members_a1[1].name));
    let (_, community_a1) = list(w.community_admin_a1.username.clone()).await;
    assert!(community_a1.contains("陈晓梅") && community_a1.contains("周敏"));
    let (_, unit_b1_page) = list(w.unit_admin_b1.username.clone()).await;
    assert!(unit_b1_page.contains("周敏") && !unit_b1_page.contains("陈晓梅"));
    let (_, community_b1) = list(w.community_admin_b1.username.clone()).await;
    assert!(!community_b1.contains("周敏") && !community_b1.contains("陈晓梅"));
    // Others may not issue at all.
    for who in [&w.member_a1, &w.town_admin_a, &w.district_admin] {
        let (status, _) = list(who.username.clone()).await;
        assert_eq!(status, 403, "{}", who.username);
    }
    // Issuing touches only the caller's roster.
    issue_sheet(&app, &w.unit_admin_a1.username, "").await;
    let with_codes = app
        .db
        .raw_strings("SELECT CAST(member_id AS TEXT) FROM activation_codes ORDER BY member_id")
        .await;
    assert!(!with_codes.contains(&commuter.id.0.to_string()));
    assert!(with_codes.len() as i64 <= MAX_SHEET);
    // The .xlsx sheet.
    let c = signed_in(&app, &w.community_admin_a1.username).await;
    let (_, html) = page(&c, &app, "/activation-codes").await;
    let csrf = crate::support::web::csrf_of(&html);
    let res = c
        .post(app.url("/activation-codes"))
        .form(&[("_csrf", csrf.as_str()), ("q", ""), ("format", "xlsx")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx file");
}
both!(sheets_cover_only_the_admins_roster);

async fn one_account_per_member(db: Db) {
    let (app, w, _) = world(db).await;
    // The security admin cannot give a member who has an account a second one.
    let c = signed_in(&app, &w.security_admin.username).await;
    let taken = &w.members_a1[0];
    let (status, _, html) = post_form(
        &c,
        &app,
        "/accounts/new",
        "/accounts/new",
        &[
            ("username", "second_account"),
            ("display_name", "第二个账号"),
            ("mobile", ""),
            ("role", "member"),
            ("target", &format!("member:{}", taken.id.0)),
        ],
    )
    .await;
    assert_eq!(status, 200, "the form is shown again");
    assert!(html.contains("该党员已激活账号"), "{html}");
}
both!(one_account_per_member);

// ---- One-time SMS code (setting `activation_sms`) ----

/// The 6-digit code in the last SMS to `mobile`.
fn sms_code(app: &TestApp, mobile: &str) -> String {
    let text = app.sms.last_to(mobile).expect("an SMS was sent");
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

async fn sms_on(app: &TestApp) {
    app.store.set_setting("activation_sms", "on").await.unwrap();
}

async fn check_step(app: &TestApp, factor: &str) -> (u16, Value) {
    let res = app
        .api()
        .post(app.url("/api/v1/activation/check"))
        .json(&json!({"name": "陈晓梅", "mobile": MOBILE, "factor": factor}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn activate_sms(app: &TestApp, sms_code: &str) -> (u16, Value) {
    let res = app
        .api()
        .post(app.url("/api/v1/activation"))
        .json(
            &json!({"name": "陈晓梅", "mobile": MOBILE, "factor": id_last6(),
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "sms_code": sms_code}),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Makes every SMS code sent so far look `secs` older.
async fn age_sms(app: &TestApp, secs: i64) {
    app.db
        .raw_exec(&format!(
            "UPDATE sms_codes SET created_at = created_at - {}",
            secs * 1000
        ))
        .await;
}

async fn sms_code_is_needed_and_used_once(db: Db) {
    let (app, _, _) = world(db).await;
    sms_on(&app).await;
    // Without step 1 there is no code.
    let (status, v) = activate_sms(&app, "123456").await;
    assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"));
    // A wrong factor sends nothing.
    let (status, _) = check_step(&app, "000000").await;
    assert_eq!(status, 401);
    assert_eq!(app.sms.count_to(MOBILE), 0);
    let (status, v) = check_step(&app, &id_last6()).await;
    assert_eq!(
        (status, v["sms_code_sent"].as_bool()),
        (200, Some(true)),
        "{v}"
    );
    let code = sms_code(&app, MOBILE);
    let text = app.sms.last_to(MOBILE).unwrap();
    assert!(text.contains("5分钟"), "{text}");
    // Missing, malformed or wrong: one answer, with a Chinese message.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut bodies = Vec::new();
    for typed in ["", "12ab", wrong] {
        let (status, v) = activate_sms(&app, typed).await;
        assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"), "{typed}");
        assert!(v["error"]["message"].as_str().unwrap().contains("验证码"));
        bodies.push(v);
    }
    assert!(bodies.windows(2).all(|b| b[0] == b[1]));
    // The right code activates; the code is never stored in clear.
    let (status, v) = activate_sms(&app, &code).await;
    assert_eq!(status, 201, "{v}");
    let stored = app
        .db
        .raw_strings("SELECT mobile_hash || code_hash FROM sms_codes")
        .await;
    assert!(
        stored
            .iter()
            .all(|s| !s.contains(MOBILE) && !s.contains(&code))
    );
    let used = app
        .db
        .raw_strings("SELECT CAST(COUNT(*) AS TEXT) FROM sms_codes WHERE used_at IS NOT NULL")
        .await;
    assert_eq!(used, ["1"]);
    // Single use: the same code again is refused.
    let keys = app.store.sms_keys(MOBILE, Some("127.0.0.1"));
    assert!(
        !app.store
            .use_sms_code(&keys, "activation", Some(&code))
            .await
            .unwrap()
    );
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"sms_code.send:ok".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"activation:denied:sms_code_invalid".to_string()),
        "{actions:?}"
    );
}
both!(sms_code_is_needed_and_used_once);

async fn sms_codes_expire_and_wear_out(db: Db) {
    let (app, _, _) = world(db).await;
    sms_on(&app).await;
    // Expired.
    check_step(&app, &id_last6()).await;
    let code = sms_code(&app, MOBILE);
    app.db.raw_exec("UPDATE sms_codes SET expires_at = 1").await;
    let (status, v) = activate_sms(&app, &code).await;
    assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"));
    // Five wrong entries kill a code, even for the right one after them.
    age_sms(&app, 61).await;
    let (status, _) = check_step(&app, &id_last6()).await;
    assert_eq!(status, 200);
    let code = sms_code(&app, MOBILE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (status, v) = activate_sms(&app, wrong).await;
        assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"));
    }
    let (status, v) = activate_sms(&app, &code).await;
    assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"));
    // Only the newest code counts: a new one works, the older one not.
    age_sms(&app, 61).await;
    check_step(&app, &id_last6()).await;
    let newest = sms_code(&app, MOBILE);
    if newest != code {
        let (status, v) = activate_sms(&app, &code).await;
        assert_eq!((status, code_of(&v)), (401, "sms_code_invalid"));
    }
    let (status, v) = activate_sms(&app, &newest).await;
    assert_eq!(status, 201, "{v}");
}
both!(sms_codes_expire_and_wear_out);

async fn sms_sending_is_limited_per_mobile(db: Db) {
    let (app, _, _) = world(db).await;
    sms_on(&app).await;
    let (status, _) = check_step(&app, &id_last6()).await;
    assert_eq!(status, 200);
    // Again within the minute: refused, nothing sent.
    let (status, v) = check_step(&app, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (429, "rate_limited"));
    assert_eq!(app.sms.count_to(MOBILE), 1);
    // A minute later, again; up to five an hour.
    for _ in 1..5 {
        age_sms(&app, 61).await;
        let (status, v) = check_step(&app, &id_last6()).await;
        assert_eq!(status, 200, "{v}");
    }
    age_sms(&app, 61).await;
    let (status, v) = check_step(&app, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (429, "rate_limited"));
    assert_eq!(app.sms.count_to(MOBILE), 5);
    // An hour on, the mobile may get a code again.
    age_sms(&app, 3600).await;
    let (status, _) = check_step(&app, &id_last6()).await;
    assert_eq!(status, 200);
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"sms_code.send:denied:rate_limited".to_string()),
        "{actions:?}"
    );
}
both!(sms_sending_is_limited_per_mobile);

async fn sms_sending_is_limited_per_address(db: Db) {
    let (app, _, _) = world(db).await;
    sms_on(&app).await;
    // Codes sent lately for other mobiles from this client address (as another instance would have stored them).
    let addr = app.store.sms_keys(MOBILE, Some("127.0.0.1")).addr.unwrap();
    let now = shanzhi_domain::Timestamp::now().0;
    for i in 0..shanzhi_domain::activation::SMS_ADDR_PER_HOUR {
        app.db
            .raw_exec(&format!(
                "INSERT INTO sms_codes (mobile_hash, addr_hash, purpose, code_hash, created_at, expires_at, attempts) \
                 VALUES ('other{i}', '{addr}', 'activation', 'x', {now}, {}, 0)",
                now + 300_000
            ))
            .await;
    }
    let (status, v) = check_step(&app, &id_last6()).await;
    assert_eq!((status, code_of(&v)), (429, "rate_limited"));
    assert_eq!(app.sms.count_to(MOBILE), 0);
    age_sms(&app, 3600).await;
    let (status, _) = check_step(&app, &id_last6()).await;
    assert_eq!(status, 200);
}
both!(sms_sending_is_limited_per_address);

async fn sms_off_leaves_the_flow_unchanged(db: Db) {
    let (app, _, _) = world(db).await;
    let (status, v) = check_step(&app, &id_last6()).await;
    assert_eq!((status, v["sms_code_sent"].as_bool()), (200, Some(false)));
    assert_eq!(app.sms.count_to(MOBILE), 0);
    let c = app.browser();
    let (status, _, html) = post_form(
        &c,
        &app,
        "/activate",
        "/activate",
        &[
            ("step", "check"),
            ("name", "陈晓梅"),
            ("mobile", MOBILE),
            ("factor", &id_last6()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("设置密码") && !html.contains("短信验证码"),
        "{html}"
    );
    let (status, v) = activate(&app, "陈晓梅", MOBILE, &id_last6()).await;
    assert_eq!(status, 201, "{v}");
}
both!(sms_off_leaves_the_flow_unchanged);

async fn sms_code_on_the_page(db: Db) {
    let (app, _, _) = world(db).await;
    sms_on(&app).await;
    let c = app.browser();
    let who = [("name", "陈晓梅"), ("mobile", MOBILE)];
    let six = id_last6();
    let form = |step: &'static str, extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&str, String)> = vec![("step", step.to_string()), ("factor", six.clone())];
        f.extend(who.iter().map(|(k, v)| (*k, v.to_string())));
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let (c, app) = (&c, &app);
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(c, app, "/activate", "/activate", &refs).await
        }
    };
    let (status, _, html) = post(form("check", &[])).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("短信验证码") && html.contains("139****1234"),
        "{html}"
    );
    let code = sms_code(&app, MOBILE);
    // Sending again within the minute: told to wait, still on step 2.
    let (_, _, html) = post(form("resend", &[])).await;
    assert!(
        html.contains("操作过于频繁") && html.contains("短信验证码"),
        "{html}"
    );
    // A wrong code: step 2 again with the message.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let pw = [("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)];
    let (status, _, html) = post(form("password", &[pw[0], pw[1], ("sms_code", wrong)])).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("短信验证码不正确") && html.contains("设置密码"),
        "{html}"
    );
    let (status, loc, html) = post(form("password", &[pw[0], pw[1], ("sms_code", &code)])).await;
    assert_eq!((status, loc.as_str()), (303, "/?ok=activated"), "{html}");
}
both!(sms_code_on_the_page);
