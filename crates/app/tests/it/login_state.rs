//! Login state (issues 6.6, 7.3, 7.4, 7.5, 7.10): lockout and throttling shared by instances, no enumeration
//! through lockout, no typed login names in the audit log, TOTP codes accepted once, re-hashing on parameter
//! change, CSRF tokens tied to the session, bounded password hashing.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;
use shanzhi_domain::Timestamp;
use shanzhi_domain::password::MAX_ADDRESS_FAILURES;

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, PASSWORD, TestApp, two_towns};

/// A second app instance (its own store and router) over the same database and key file as `app`.
struct Instance {
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn start(app: &TestApp) -> Instance {
        let store = app.db.store().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = shanzhi_web::app(store, shanzhi_web::WebConfig::default());
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        Instance { base, server }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// API login against `base`; returns (status, error code or "ok").
async fn login_at(base: &str, username: &str, password: &str, totp: Option<&str>) -> (u16, String) {
    let mut body = serde_json::json!({"username": username, "password": password});
    if let Some(t) = totp {
        body["totp"] = serde_json::json!(t);
    }
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    let code = v["error"]["code"].as_str().unwrap_or("ok").to_string();
    (status, code)
}

/// `actor|action|result` of every login audit row, oldest first.
async fn login_audit(app: &TestApp) -> Vec<String> {
    app.db
        .raw_strings(
            "SELECT actor || '|' || action || '|' || result FROM audit_log WHERE action LIKE 'login%' ORDER BY id",
        )
        .await
}

async fn unknown_login_names_are_audited_as_a_keyed_hash(db: Db) {
    let (app, w) = two_towns(db).await;
    let typed = "13912345678";
    // A failed login under a mobile number no account has.
    assert_eq!(
        login_at(&app.base, typed, "Wrong#Pass1", None).await,
        (401, "invalid_credentials".into())
    );
    // Through the login page too.
    let browser = app.browser();
    let (status, _) = app.web_login(&browser, typed, "Wrong#Pass1").await;
    assert_eq!(status, 200);
    // A throttled login: use up the address's failures with other unknown mobiles, then try once more.
    for i in 2..MAX_ADDRESS_FAILURES {
        let (status, _) = login_at(&app.base, &format!("1380000{i:04}"), "Wrong#Pass1", None).await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        login_at(&app.base, typed, "Wrong#Pass1", None).await,
        (429, "rate_limited".into())
    );
    let rows = login_audit(&app).await;
    assert_eq!(rows.len() as i64, MAX_ADDRESS_FAILURES + 1);
    let label = app.store.unknown_login_label(typed);
    assert!(
        label.starts_with("未知账号#") && label.chars().count() == 11,
        "{label}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with(&format!("{label}|")))
            .count(),
        3,
        "the same name gives the same label: {rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r == &format!("{label}|login|denied:rate_limited"))
    );
    for r in &rows {
        assert!(r.starts_with("未知账号#"), "{r}");
        assert!(
            !r.contains(typed) && !r.contains("1380000"),
            "typed name in the audit: {r}"
        );
    }
    let everything = app
        .db
        .raw_strings(
            "SELECT COALESCE(actor,'') || COALESCE(target,'') || COALESCE(detail,'') FROM audit_log \
             UNION ALL SELECT key_hash FROM login_attempts",
        )
        .await;
    assert!(everything.iter().all(|t| !t.contains(typed)));
    // On SQLite nothing in the database file or its WAL holds the typed number either.
    if db == Db::Sqlite {
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", app.db.sqlite_file().display());
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(typed.len()).any(|w| w == typed.as_bytes()),
                    "{path} holds the typed login name"
                );
            }
        }
    }
    // An existing account is recorded by its username, even when its mobile number was typed.
    let mobile = "13700001111";
    let hash = app.store.vault().search_hash(mobile);
    app.db
        .raw_exec(&format!(
            "UPDATE accounts SET mobile_hash = '{hash}' WHERE username = '{}'",
            w.member_a1.username
        ))
        .await;
    let second = Instance::start(&app).await;
    assert_eq!(
        login_at(&second.base, mobile, "Wrong#Pass1", None).await.1,
        "rate_limited",
        "the address is still throttled, on the other instance too"
    );
    let last = login_audit(&app).await.pop().unwrap();
    assert_eq!(
        last,
        format!("{}|login|denied:rate_limited", w.member_a1.username)
    );
}
both!(unknown_login_names_are_audited_as_a_keyed_hash);

async fn unknown_names_lock_like_real_ones(db: Db) {
    let (app, w) = two_towns(db).await;
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    let mut unknown_mobile = Vec::new();
    for _ in 0..7 {
        real.push(
            login_at(
                &app.base,
                w.member_a1.username.as_str(),
                "Wrong#Pass1",
                None,
            )
            .await,
        );
        unknown.push(login_at(&app.base, "no_such_user", "Wrong#Pass1", None).await);
        unknown_mobile.push(login_at(&app.base, "13900002222", "Wrong#Pass1", None).await);
    }
    let bad = (401, "invalid_credentials".to_string());
    let locked = (429, "account_locked".to_string());
    let expected = vec![
        bad.clone(),
        bad.clone(),
        bad.clone(),
        bad.clone(),
        locked.clone(),
        locked.clone(),
        locked.clone(),
    ];
    assert_eq!(real, expected);
    assert_eq!(
        unknown, expected,
        "an unknown name answers exactly like a real one"
    );
    assert_eq!(unknown_mobile, expected);
    // The same name typed differently is the same name.
    assert_eq!(
        login_at(&app.base, "  NO_SUCH_USER ", "Wrong#Pass1", None).await,
        locked
    );
    // The right password does not open a locked account; another name is unaffected.
    assert_eq!(
        login_at(&app.base, w.member_a1.username.as_str(), PASSWORD, None).await,
        locked
    );
    assert_eq!(
        login_at(&app.base, w.member_b1.username.as_str(), PASSWORD, None).await,
        (200, "ok".into())
    );
    // The lockout of the account shows in the security admin's list and is lifted by an unlock.
    let account = app
        .store
        .find_login(w.member_a1.username.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.failed_logins, 5);
    assert!(account.is_locked(Timestamp::now()));
    let admin = shanzhi_store::Actor::default();
    app.store
        .unlock_account(&admin, account.id())
        .await
        .unwrap();
    assert_eq!(
        login_at(&app.base, w.member_a1.username.as_str(), PASSWORD, None).await,
        (200, "ok".into())
    );
}
both!(unknown_names_lock_like_real_ones);

async fn login_state_is_shared_by_instances(db: Db) {
    let (app, w) = two_towns(db).await;
    let b = Instance::start(&app).await;
    let (a, b) = (app.base.clone(), b.base.clone());
    // Failures spread over two instances lock an unknown name and a real account alike.
    for (i, name) in ["ghost_user", w.member_a1.username.as_str()]
        .into_iter()
        .enumerate()
    {
        for n in 0..4 {
            let at = if (n + i) % 2 == 0 { &a } else { &b };
            assert_eq!(
                login_at(at, name, "Wrong#Pass1", None).await.1,
                "invalid_credentials"
            );
        }
        assert_eq!(
            login_at(&b, name, "Wrong#Pass1", None).await.1,
            "account_locked"
        );
        assert_eq!(
            login_at(&a, name, "Wrong#Pass1", None).await.1,
            "account_locked"
        );
    }
    assert_eq!(
        login_at(&a, w.member_a1.username.as_str(), PASSWORD, None)
            .await
            .1,
        "account_locked"
    );
    // The per-address throttle counts failures on both instances together (10 so far).
    for i in 10..MAX_ADDRESS_FAILURES {
        let at = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            login_at(at, &format!("spray{i}"), "Wrong#Pass1", None)
                .await
                .1,
            "invalid_credentials"
        );
    }
    assert_eq!(
        login_at(&a, w.member_b1.username.as_str(), PASSWORD, None)
            .await
            .1,
        "rate_limited"
    );
    assert_eq!(
        login_at(&b, w.member_b1.username.as_str(), PASSWORD, None)
            .await
            .1,
        "rate_limited"
    );
    // Nothing typed is stored: the rows are keyed hashes.
    let keys = app
        .db
        .raw_strings("SELECT key_hash FROM login_attempts")
        .await;
    assert!(keys.len() >= 3);
    assert!(
        keys.iter()
            .all(|k| k.len() == 64 && k.bytes().all(|c| c.is_ascii_hexdigit()))
    );
}
both!(login_state_is_shared_by_instances);

async fn password_hashes_are_rehashed_when_parameters_change(db: Db) {
    let (app, w) = two_towns(db).await;
    let old = shanzhi_secure::password::hash_with_params(PASSWORD, 8192, 1, 1).unwrap();
    app.db
        .raw_exec(&format!(
            "UPDATE accounts SET password_hash = '{old}' WHERE username = '{}'",
            w.member_a1.username
        ))
        .await;
    let token = app.token(w.member_a1.username.as_str()).await;
    let stored = app
        .db
        .raw_strings(&format!(
            "SELECT password_hash FROM accounts WHERE username = '{}'",
            w.member_a1.username
        ))
        .await
        .pop()
        .unwrap();
    assert_ne!(stored, old);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(shanzhi_secure::password::verify(PASSWORD, &stored));
    // The session of the login that re-hashed stays valid, and the re-hash is audited.
    assert_eq!(app.get_json(&token, "/api/v1/me").await.0, 200);
    let audit = app
        .db
        .raw_strings("SELECT actor FROM audit_log WHERE action = 'account.password_rehash'")
        .await;
    assert_eq!(audit, vec![w.member_a1.username.as_str().to_string()]);
    // A current hash is left alone.
    app.token(w.member_a1.username.as_str()).await;
    assert_eq!(
        app.db
            .raw_strings(&format!(
                "SELECT password_hash FROM accounts WHERE username = '{}'",
                w.member_a1.username
            ))
            .await
            .pop()
            .unwrap(),
        stored
    );
}
both!(password_hashes_are_rehashed_when_parameters_change);

async fn totp_codes_are_accepted_once(db: Db) {
    let app = TestApp::builder(db).second_factor().start().await;
    let w = World::two_towns(&app.store).await;
    let account = app
        .store
        .find_login(w.community_admin_a1.username.as_str())
        .await
        .unwrap()
        .unwrap();
    let secret = shanzhi_secure::totp::new_secret();
    app.store
        .set_totp(
            &shanzhi_store::Actor::default(),
            account.id(),
            Some(&secret),
            true,
        )
        .await
        .unwrap();
    let now = u64::try_from(Timestamp::now().0 / 1000).unwrap();
    let code = shanzhi_secure::totp::code_at(&secret, now).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // A wrong code through the API is audited like one on the page.
    assert_eq!(
        login_at(
            &app.base,
            w.community_admin_a1.username.as_str(),
            PASSWORD,
            Some(wrong)
        )
        .await,
        (401, "totp_invalid".into())
    );
    let rows = login_audit(&app).await;
    assert_eq!(
        rows.last().unwrap(),
        &format!(
            "{}|login.totp|denied:totp_invalid",
            w.community_admin_a1.username
        )
    );
    assert_eq!(
        login_at(
            &app.base,
            w.community_admin_a1.username.as_str(),
            PASSWORD,
            Some(&code)
        )
        .await,
        (200, "ok".into())
    );
    // The same code again (also on another instance) is refused.
    assert_eq!(
        login_at(
            &app.base,
            w.community_admin_a1.username.as_str(),
            PASSWORD,
            Some(&code)
        )
        .await,
        (401, "totp_invalid".into())
    );
    let other = Instance::start(&app).await;
    assert_eq!(
        login_at(
            &other.base,
            w.community_admin_a1.username.as_str(),
            PASSWORD,
            Some(&code)
        )
        .await,
        (401, "totp_invalid".into())
    );
    // So is the code of the step before.
    let earlier = shanzhi_secure::totp::code_at(&secret, now - 30).unwrap();
    if earlier != code {
        assert_eq!(
            login_at(
                &app.base,
                w.community_admin_a1.username.as_str(),
                PASSWORD,
                Some(&earlier)
            )
            .await
            .1,
            "totp_invalid"
        );
    }
    // On the page as well: the used code keeps the user on the TOTP step.
    let browser = app.browser();
    let (status, loc) = app
        .web_login(&browser, w.community_admin_a1.username.as_str(), PASSWORD)
        .await;
    assert_eq!((status, loc.as_str()), (303, "/login/totp"));
    let csrf = app.csrf(&browser).await;
    let res = browser
        .post(app.url("/login/totp"))
        .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("动态码不正确"));
    // The next step's code works once.
    let next = shanzhi_secure::totp::code_at(&secret, now + 30).unwrap();
    let res = browser
        .post(app.url("/login/totp"))
        .form(&[("_csrf", csrf.as_str()), ("code", next.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        login_at(
            &app.base,
            w.community_admin_a1.username.as_str(),
            PASSWORD,
            Some(&next)
        )
        .await
        .1,
        "totp_invalid"
    );
    let rows = login_audit(&app).await;
    let invalid = rows
        .iter()
        .filter(|r| {
            r.as_str()
                == format!(
                    "{}|login.totp|denied:totp_invalid",
                    w.community_admin_a1.username
                )
        })
        .count();
    // wrong, two replays, (the step before), the page replay, the replay of the page's code
    let expected = if earlier != code { 6 } else { 5 };
    assert_eq!(invalid, expected, "{rows:?}");
}
both!(totp_codes_are_accepted_once);

/// The value of `name` in a response's Set-Cookie headers.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (k, rest) = v.split_once('=')?;
        (k == name).then(|| rest.split(';').next().unwrap_or("").to_string())
    })
}

fn form_csrf(html: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    let start = html.find(key).unwrap() + key.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn csrf_tokens_are_tied_to_the_session(db: Db) {
    let (app, w) = two_towns(db).await;
    let malu = app
        .store
        .place_by_code(&w.town_a.code)
        .await
        .unwrap()
        .unwrap();
    let edit = app.url(&format!("/places/{}/edit", malu.id));
    let place_form = |csrf: &str, name: &str| {
        vec![
            ("_csrf".to_string(), csrf.to_string()),
            ("code".to_string(), malu.code.clone()),
            ("name".to_string(), name.to_string()),
            (
                "party_org_name".to_string(),
                malu.party_org_name.clone().unwrap_or_default(),
            ),
            (
                "party_org_level".to_string(),
                malu.party_org_level.clone().unwrap_or_default(),
            ),
        ]
    };
    // The victim logs in (cookies handled by hand, as an attacker planting one would).
    let plain = app.api();
    let res = plain.get(app.url("/login")).send().await.unwrap();
    let pre = set_cookie(&res, "sz_csrf").unwrap();
    let pre_token = form_csrf(&res.text().await.unwrap());
    assert_ne!(
        pre_token, pre,
        "the token is derived, not the cookie itself"
    );
    let res = plain
        .post(app.url("/login"))
        .header(COOKIE, format!("sz_csrf={pre}"))
        .form(&[
            ("_csrf", pre_token.as_str()),
            ("username", w.town_admin_a.username.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = set_cookie(&res, "sz_session").unwrap();
    // The attack: the victim's session cookie, an attacker-chosen sz_csrf cookie and the same value in the form.
    let chosen = "attackerChosenValue0123456789";
    let res = plain
        .post(&edit)
        .header(COOKIE, format!("sz_session={session}; sz_csrf={chosen}"))
        .form(&place_form(chosen, "被篡改的镇"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("csrf_rejected"));
    // The token from before login no longer works after it.
    let res = plain
        .post(&edit)
        .header(COOKIE, format!("sz_session={session}; sz_csrf={pre}"))
        .form(&place_form(&pre_token, "被篡改的镇"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let unchanged = app
        .store
        .place_by_code(&w.town_a.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.name, malu.name);
    // The session's own token works, on either instance (they share the key).
    let html = plain
        .get(&edit)
        .header(COOKIE, format!("sz_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = form_csrf(&html);
    assert_ne!(token, pre_token, "a new session brings a new token");
    let other = Instance::start(&app).await;
    let res = plain
        .post(format!("{}/places/{}/edit", other.base, malu.id))
        .header(COOKIE, format!("sz_session={session}; sz_csrf={chosen}"))
        .form(&place_form(&token, &format!("{}(改)", malu.name)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let changed = app
        .store
        .place_by_code(&w.town_a.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.name, format!("{}(改)", malu.name));
    // With a cookie-keeping browser: the token rotates at each login.
    let browser = app.browser();
    let before = app.csrf(&browser).await;
    app.web_login(&browser, w.town_admin_a.username.as_str(), PASSWORD)
        .await;
    let first = app.csrf(&browser).await;
    assert_ne!(first, before);
    let res = browser
        .post(&edit)
        .form(&place_form(&before, "又被篡改"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = browser
        .post(app.url("/logout"))
        .form(&[("_csrf", first.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    app.web_login(&browser, w.town_admin_a.username.as_str(), PASSWORD)
        .await;
    let second = app.csrf(&browser).await;
    assert_ne!(second, first);
    let res = browser
        .post(&edit)
        .form(&place_form(&first, "又被篡改"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "the old session's token is refused");
    let res = browser
        .post(&edit)
        .form(&place_form(&second, &malu.name))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}
both!(csrf_tokens_are_tied_to_the_session);

async fn concurrent_logins_wait_in_a_short_queue(db: Db) {
    let app = TestApp::builder(db)
        .config(shanzhi_web::WebConfig {
            hash_workers: 1,
            hash_queue: 1,
            ..Default::default()
        })
        .start()
        .await;
    let w = World::two_towns(&app.store).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let base = app.base.clone();
        let username = w.member_a1.username.clone();
        tasks.push(tokio::spawn(async move {
            login_at(&base, &username, PASSWORD, None).await
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            (200, _) => ok += 1,
            (429, code) if code == "rate_limited" => limited += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(ok >= 1, "some logins are served");
    assert!(
        limited >= 1,
        "past the queue, logins are refused, not piled up"
    );
    // A refusal for load is no failed login: the account is not locked, and logins work again.
    assert_eq!(
        login_at(&app.base, w.member_a1.username.as_str(), PASSWORD, None).await,
        (200, "ok".into())
    );
}
both!(concurrent_logins_wait_in_a_short_queue);
