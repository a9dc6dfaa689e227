//! One rule for what a role may see (pages, API, exports): every member and unit in a role's ledgers is readable
//! through the API by the same role, numbers are masked unless the role may reveal them (and then the export is
//! audited); the unit-rate rule (names only for the unit's own admin, the district, and of members living in the
//! caller's area); the 三员 read no members, units or places.

use std::collections::BTreeSet;

use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::registration::UnitRegistrationInput;
use shanzhi_domain::role::{Action, Role, Scope, permits};
use shanzhi_store::imports::LedgerFilter;
use shanzhi_store::{Actor, AuditFilter, PageReq};

use crate::both;
use crate::matrix::fixture;
use crate::support::{Db, TestApp};

async fn download(app: &TestApp, token: &str, path: &str) -> (u16, Vec<u8>) {
    let res = app
        .api()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
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

async fn ledgers_and_records_agree(db: Db) {
    let app = TestApp::builder(db).start().await;
    let fx = fixture(&app.store).await;
    // Unit UB (located in town B) registers with community A1: A1 reviews the registration on the
    // unit-registration pages, but UB is not A1's unit, so it is not in A1's unit ledger either.
    let ub = fx.units["UB"];
    let a1 = fx.places["mx_a1"].0;
    app.store
        .submit_unit_registration(
            &Actor::system("test"),
            &Scope::Unit(ub),
            ub,
            &UnitRegistrationInput {
                place_id: a1.to_string(),
                contact_name: "联系人".into(),
                contact_phone: "19987654329".into(),
                note: String::new(),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();

    let mut checked_roles = 0;
    for who in &fx.who {
        let token = app.token(&who.username).await;
        let (m_status, m_bytes) = download(&app, &token, "/api/v1/exports/members.xlsx").await;
        let (u_status, u_bytes) = download(&app, &token, "/api/v1/exports/units.xlsx").await;
        if !permits(who.role, Action::Export) {
            assert_eq!((m_status, u_status), (403, 403), "{:?}", who.role);
            continue;
        }
        checked_roles += 1;
        assert_eq!((m_status, u_status), (200, 200), "{:?}", who.role);
        let reveal = permits(who.role, Action::PersonalReveal);

        // Members: the ledger's rows are exactly the members the API lists, each readable on its own.
        let ledger = app
            .store
            .member_ledger(&who.scope, &LedgerFilter::default(), None)
            .await
            .unwrap();
        let sheet = shanzhi_sheets::read_table("m.xlsx", &m_bytes, &Default::default()).unwrap();
        assert_eq!(sheet.rows.len(), ledger.len(), "{:?}: sheet rows", who.role);
        let (_, listed) = app.get_json(&token, "/api/v1/members?per_page=200").await;
        let listed: BTreeSet<i64> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        let in_ledger: BTreeSet<i64> = ledger.iter().map(|r| r.id).collect();
        assert_eq!(
            in_ledger, listed,
            "{:?}: member ledger = member list",
            who.role
        );
        for id in &in_ledger {
            let (status, _) = app.get_json(&token, &format!("/api/v1/members/{id}")).await;
            assert_eq!(
                status, 200,
                "{:?} reads member {id} of its ledger",
                who.role
            );
        }
        let mobile = sheet.column("手机号").unwrap();
        for row in &sheet.rows {
            let cell = row.get(mobile).to_string();
            assert_eq!(
                !cell.contains('*'),
                reveal,
                "{:?}: mobile {cell} masked unless the role may reveal",
                who.role
            );
        }

        // Units: likewise.
        let ledger = app
            .store
            .unit_ledger(&who.scope, &LedgerFilter::default(), None)
            .await
            .unwrap();
        let sheet = shanzhi_sheets::read_table("u.xlsx", &u_bytes, &Default::default()).unwrap();
        assert_eq!(sheet.rows.len(), ledger.len(), "{:?}: sheet rows", who.role);
        let in_ledger: BTreeSet<i64> = ledger.iter().map(|r| r.id).collect();
        for id in &in_ledger {
            let (status, _) = app.get_json(&token, &format!("/api/v1/units/{id}")).await;
            assert_eq!(status, 200, "{:?} reads unit {id} of its ledger", who.role);
        }
        let (_, listed) = app.get_json(&token, "/api/v1/units?per_page=200").await;
        let listed: BTreeSet<i64> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect();
        assert_eq!(in_ledger, listed, "{:?}: unit ledger = unit list", who.role);
        if who.role == Role::CommunityAdmin {
            assert!(!in_ledger.contains(&ub.0), "UB only registered with A1");
            assert!(in_ledger.contains(&fx.units["UA"].0));
        }
        let phone = sheet.column("联系电话").unwrap();
        for row in &sheet.rows {
            let cell = row.get(phone).to_string();
            if !cell.is_empty() {
                assert_eq!(!cell.contains('*'), reveal, "{:?}: phone {cell}", who.role);
            }
        }
    }
    assert_eq!(
        checked_roles, 4,
        "district, town, community and unit admins export"
    );
    // Each full-number export is audited (the community and unit admins may reveal); masked ones are not.
    let revealing = fx
        .who
        .iter()
        .filter(|w| permits(w.role, Action::Export) && permits(w.role, Action::PersonalReveal))
        .count() as i64;
    assert_eq!(revealing, 2);
    assert_eq!(audit_count(&app, "export.members.reveal").await, revealing);
    assert_eq!(audit_count(&app, "export.units.reveal").await, revealing);
}
both!(ledgers_and_records_agree);

async fn the_unit_rate_rule(db: Db) {
    let app = TestApp::builder(db).start().await;
    let fx = fixture(&app.store).await;
    let ua = fx.units["UA"].0;
    // UA is located in A1; its members MA, MA2 live in A1. Move MA2 to town B, so A1 and town A may not name them.
    let mut probe = vec![];
    app.db
        .raw_exec(&format!(
            "UPDATE members SET place_path = '{}', community_id = {} WHERE id = {}",
            fx.places["mx_b1"].1, fx.places["mx_b1"].0, fx.members["MA2"]
        ))
        .await;
    for who in &fx.who {
        let token = app.token(&who.username).await;
        let (status, body) = app
            .get_json(&token, &format!("/api/v1/units/{ua}/registration-rate"))
            .await;
        probe.push((who.role, status, body));
    }
    let names = |b: &serde_json::Value| -> BTreeSet<String> {
        b["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["member_name"].as_str().unwrap().to_string())
            .collect()
    };
    for (role, status, body) in &probe {
        match role {
            Role::DistrictAdmin | Role::UnitAdmin => {
                assert_eq!(*status, 200, "{role:?}");
                assert_eq!(body["total_members"], 2);
                assert_eq!(names(body).len(), 2, "{role:?} sees every name");
                assert_eq!(body["unnamed_members"], 0);
            }
            Role::TownAdmin | Role::CommunityAdmin => {
                assert_eq!(*status, 200, "{role:?}");
                assert_eq!(body["total_members"], 2, "{role:?} counts every member");
                assert_eq!(
                    names(body),
                    BTreeSet::from(["矩阵党员MA".to_string()]),
                    "{role:?} names only members living in its area"
                );
                assert_eq!(body["unnamed_members"], 1);
            }
            Role::GridLeader | Role::Member => assert_eq!(*status, 404, "{role:?}"),
            _ => assert_eq!(*status, 403, "{role:?}"),
        }
    }
    // The page follows the same rule.
    let browser = app.browser();
    app.web_login(&browser, "mx_town_admin", crate::support::PASSWORD)
        .await;
    let html = browser
        .get(app.url(&format!("/units/{ua}/registrations")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("矩阵党员MA<"), "{html}");
    assert!(!html.contains("矩阵党员MA2"));
    assert!(html.contains("id=\"unnamed\""));
}
both!(the_unit_rate_rule);

async fn oversight_roles_read_no_records(db: Db) {
    let app = TestApp::builder(db).start().await;
    let fx = fixture(&app.store).await;
    for who in fx
        .who
        .iter()
        .filter(|w| matches!(w.role, Role::SecurityAdmin | Role::Auditor))
    {
        assert_eq!(who.scope, Scope::Oversight);
        // Even if a handler forgot its permission check, the store would show them nothing.
        let members = app
            .store
            .list_members(&who.scope, &Default::default(), PageReq::default())
            .await
            .unwrap();
        assert_eq!(members.total, 0);
        let units = app
            .store
            .list_units(&who.scope, &Default::default(), PageReq::default())
            .await
            .unwrap();
        assert_eq!(units.total, 0);
        assert!(
            app.store
                .get_member(&who.scope, fx.members["MA"])
                .await
                .is_err()
        );
        assert!(
            app.store
                .member_ledger(&who.scope, &LedgerFilter::default(), None)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            app.store
                .place_options(&who.scope.nameable_places(), &[PlaceLevel::Community])
                .await
                .unwrap()
                .is_empty()
        );
        // Their own work still shows: the home page counts accounts or audit rows.
        let browser = app.browser();
        app.web_login(&browser, &who.username, crate::support::PASSWORD)
            .await;
        let res = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
}
both!(oversight_roles_read_no_records);
