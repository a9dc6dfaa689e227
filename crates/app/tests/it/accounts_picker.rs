//! Staff accounts are created from a person picker (search a place, unit or member by name; the choice is a typed
//! id, no free-text target), and the account list shows each account's roles and scope, filterable by role and
//! scope name.

use shanzhi_domain::AccountId;
use shanzhi_domain::role::Role;

use crate::both;
use crate::support::web::{page, post_form, signed_in};
use crate::support::{Db, two_towns};

async fn staff_accounts_are_bound_through_the_picker(db: Db) {
    let (app, w) = two_towns(db).await;
    let admin = signed_in(&app, &w.security_admin.username).await;

    // Step one: search by role and name (a plain GET form); the matches are radio choices of typed ids.
    let (status, html) = page(&admin, &app, "/accounts/new?role=community_admin&find=甲一").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("value=\"place:{}\"", w.a1.id.0)),
        "{html}"
    );
    assert!(!html.contains(&format!("value=\"place:{}\"", w.b1.id.0)));
    assert!(
        !html.contains(&format!("value=\"place:{}\"", w.town_a.id.0)),
        "only communities"
    );
    let (_, html) = page(&admin, &app, "/accounts/new?role=unit_admin&find=单位乙一").await;
    assert!(html.contains(&format!("value=\"unit:{}\"", w.unit_b1.id.0)));
    let member = &w.members_a2[1];
    let (_, html) = page(
        &admin,
        &app,
        &format!("/accounts/new?role=member&find={}", member.name),
    )
    .await;
    assert!(html.contains(&format!("value=\"member:{}\"", member.id.0)));
    assert!(!html.contains("1986"), "no mobile numbers in the picker");
    let (_, html) = page(&admin, &app, "/accounts/new?role=town_admin&find=无此地").await;
    assert!(html.contains("没有找到名称包含"));

    // Step two: the chosen id is bound.
    let cases = [
        (
            "staff_a1",
            Role::CommunityAdmin,
            format!("place:{}", w.a1.id.0),
        ),
        (
            "staff_ub1",
            Role::UnitAdmin,
            format!("unit:{}", w.unit_b1.id.0),
        ),
        ("staff_m", Role::Member, format!("member:{}", member.id.0)),
    ];
    for (username, role, target) in &cases {
        let (status, _, html) = post_form(
            &admin,
            &app,
            "/accounts/new?role=town_admin&find=甲",
            "/accounts/new",
            &[
                ("username", username),
                ("display_name", "新同事"),
                ("role", role.as_str()),
                ("target", target),
            ],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("initial-password"), "{username}: {html}");
        let account = app.store.find_login(username).await.unwrap().unwrap();
        let bindings = app
            .store
            .account_bindings(AccountId(account.id))
            .await
            .unwrap();
        assert_eq!(bindings.len(), 1);
        let b = &bindings[0].1;
        assert_eq!(b.role, *role);
        match role {
            Role::CommunityAdmin => assert_eq!(b.place_id, Some(w.a1.id)),
            Role::UnitAdmin => assert_eq!(b.unit_id, Some(w.unit_b1.id)),
            _ => assert_eq!(b.member_id, Some(member.id)),
        }
    }
    // A choice of the wrong kind, or none, is refused beside the field.
    for target in [
        format!("unit:{}", w.unit_a1.id.0),
        String::new(),
        "a1".into(),
    ] {
        let (status, _, html) = post_form(
            &admin,
            &app,
            "/accounts/new?role=town_admin&find=甲",
            "/accounts/new",
            &[
                ("username", "staff_bad"),
                ("display_name", "新同事"),
                ("role", "town_admin"),
                ("target", &target),
            ],
        )
        .await;
        assert_eq!(status, 200);
        assert!(!html.contains("initial-password"), "{target}");
        assert!(
            html.contains("class=\"err\">此项必填") || html.contains("角色不正确"),
            "{target}"
        );
    }
    // Adding a role on the account page uses the same picker.
    let account = app.store.find_login("staff_a1").await.unwrap().unwrap();
    let show = format!("/accounts/{}?role=grid_leader&find=网格", account.id);
    let (_, html) = page(&admin, &app, &show).await;
    assert!(html.contains(&format!("value=\"place:{}\"", w.grid_a1.id.0)));
    let (status, loc, _) = post_form(
        &admin,
        &app,
        &show,
        &format!("/accounts/{}/roles", account.id),
        &[
            ("role", "grid_leader"),
            ("target", &format!("place:{}", w.grid_a1.id.0)),
        ],
    )
    .await;
    assert_eq!((status, loc.contains("ok=saved")), (303, true));
}
both!(staff_accounts_are_bound_through_the_picker);

async fn the_account_list_shows_roles_and_scope_with_filters(db: Db) {
    let (app, w) = two_towns(db).await;
    let admin = signed_in(&app, &w.security_admin.username).await;
    let (status, html) = page(&admin, &app, "/accounts").await;
    assert_eq!(status, 200);
    assert!(html.contains("村居管理员 · 甲一村") && html.contains("单位党组织管理员 · 单位甲一"));
    let rows = |html: &str| html.matches("<tr><td data-label=\"姓名\">").count();
    // By role.
    let (_, html) = page(&admin, &app, "/accounts?role=community_admin").await;
    assert_eq!(rows(&html), 4, "four community admins");
    assert!(!html.contains("街镇管理员 ·"));
    // By scope name (place, unit or member name), with the role.
    let (_, html) = page(&admin, &app, "/accounts?scope=甲一").await;
    assert!(html.contains("村居管理员 · 甲一村") && html.contains("单位党组织管理员 · 单位甲一"));
    assert!(!html.contains("乙一村"));
    let (_, html) = page(&admin, &app, "/accounts?role=unit_admin&scope=甲一").await;
    assert_eq!(rows(&html), 1);
    let (_, html) = page(&admin, &app, "/accounts?role=auditor&scope=甲一").await;
    assert!(html.contains("没有找到账号"));
    // Search by name, paged.
    let (_, html) = page(
        &admin,
        &app,
        &format!("/accounts?q={}", w.community_admin_b2.display_name),
    )
    .await;
    assert_eq!(rows(&html), 1);
    assert!(html.contains("共 1 条"));
}
both!(the_account_list_shows_roles_and_scope_with_filters);
