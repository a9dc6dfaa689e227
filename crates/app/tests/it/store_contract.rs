//! Store contract tests: the same behaviour on SQLite and PostgreSQL.

use shanzhi_domain::org::{MemberInput, UnitInput};
use shanzhi_domain::role::Scope;
use shanzhi_domain::roster::UnitLink;
use shanzhi_domain::validate::credit_code_check_char;
use shanzhi_domain::{Code, MemberId, PlaceId, UnitId};
use shanzhi_store::orgs::MemberFilter;
use shanzhi_store::places::PlaceFilter;
use shanzhi_store::{Actor, PageReq, StoreError};

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, TestDb};

fn credit(n: usize) -> String {
    let first = format!("91310114{:09}", n);
    format!("{first}{}", credit_code_check_char(&first).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_of_both_backends_have_the_same_tables_columns_and_indexes() {
    let a = TestDb::new(Db::Sqlite).await;
    let b = TestDb::new(Db::Postgres).await;
    let sa = a.store().await.schema_columns().await.unwrap();
    let sb = b.store().await.schema_columns().await.unwrap();
    assert!(sa.len() > 50, "schema looks empty: {sa:?}");
    assert_eq!(sa, sb, "tables and columns differ");
    let ia = a.store().await.schema_indexes().await.unwrap();
    let ib = b.store().await.schema_indexes().await.unwrap();
    assert!(
        ia.iter().any(|i| i.unique && i.partial),
        "the partial unique index on registrations is missing: {ia:#?}"
    );
    let only_sqlite: Vec<_> = ia.iter().filter(|i| !ib.contains(i)).collect();
    let only_pg: Vec<_> = ib.iter().filter(|i| !ia.contains(i)).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "indexes and unique constraints differ\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_pg:#?}"
    );
}

async fn subtree_scope_is_enforced_in_queries(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let malu = store.place_by_code(&w.town_a.code).await.unwrap().unwrap();
    let juyuan = store.place_by_code(&w.town_b.code).await.unwrap().unwrap();
    let scope = Scope::Subtree(malu.path.clone());
    // Everything a town admin lists lies inside the town.
    let places = store
        .list_places(
            &scope,
            &PlaceFilter::default(),
            PageReq::new(Some(1), Some(200)),
        )
        .await
        .unwrap();
    assert!(places.total > 3);
    assert!(places.items.iter().all(|p| p.path.starts_with(&malu.path)));
    // A place of another town is "not found", exactly like a missing one.
    assert!(matches!(
        store.get_place(&scope, juyuan.id()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_place(&scope, PlaceId(999_999)).await,
        Err(StoreError::NotFound)
    ));
    let members = store
        .list_members(
            &scope,
            &MemberFilter::default(),
            PageReq::new(Some(1), Some(200)),
        )
        .await
        .unwrap();
    assert!(members.total > 0);
    assert!(
        members
            .items
            .iter()
            .all(|m| m.place_path.starts_with(&malu.path))
    );
    let other = store
        .list_members(
            &Scope::Subtree(juyuan.path.clone()),
            &MemberFilter::default(),
            PageReq::new(Some(1), Some(1)),
        )
        .await
        .unwrap();
    let outsider = MemberId(other.items[0].id);
    assert!(matches!(
        store.get_member(&scope, outsider).await,
        Err(StoreError::NotFound)
    ));
    // Unit scope: only the unit's own members; member scope: only oneself.
    let unit = UnitId(members.items[0].unit_id);
    let of_unit = store
        .list_members(
            &Scope::Unit(unit),
            &MemberFilter::default(),
            PageReq::new(Some(1), Some(200)),
        )
        .await
        .unwrap();
    assert!(of_unit.items.iter().all(|m| m.unit_id == unit.0));
    let me = MemberId(members.items[0].id);
    let mine = store
        .list_members(
            &Scope::Member(me),
            &MemberFilter::default(),
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(mine.total, 1);
    assert!(
        store
            .list_members(
                &Scope::Nothing,
                &MemberFilter::default(),
                PageReq::default()
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
both!(subtree_scope_is_enforced_in_queries);

async fn units_validate_and_refuse_duplicates(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let actor = Actor::system("test");
    let malu = store.place_by_code(&w.town_a.code).await.unwrap().unwrap();
    let jdz = store.place_by_code(&w.town_b.code).await.unwrap().unwrap();
    let scope = Scope::Subtree(malu.path.clone());
    let input = UnitInput {
        name: "甲镇测试单位".into(),
        kind: "soe".into(),
        credit_code: credit(777),
        place_id: malu.id.to_string(),
        party_org_name: "测试党支部".into(),
        party_org_level: "branch".into(),
        contact_name: String::new(),
        contact_phone: "13912345678".into(),
    };
    let v = input.validate().unwrap();
    let id = store.create_unit(&actor, &scope, &v).await.unwrap();
    let unit = store.get_unit(&scope, id).await.unwrap();
    assert_eq!(unit.contact_phone_masked.as_deref(), Some("139****5678"));
    match store.create_unit(&actor, &scope, &v).await {
        Err(StoreError::Fields(f)) => assert_eq!(
            f.get("credit_code").unwrap().code,
            Code::DuplicateCreditCode
        ),
        other => panic!("expected duplicate, got {other:?}"),
    }
    // A place outside the caller's subtree is refused as an invalid choice.
    let mut elsewhere = v.clone();
    elsewhere.credit_code = credit(778);
    elsewhere.place_id = jdz.id();
    match store.create_unit(&actor, &scope, &elsewhere).await {
        Err(StoreError::Fields(f)) => {
            assert_eq!(f.get("place_id").unwrap().code, Code::InvalidPlace)
        }
        other => panic!("expected invalid place, got {other:?}"),
    }
    // Unknown unit kind.
    let mut bad_kind = v.clone();
    bad_kind.credit_code = credit(779);
    bad_kind.kind = "nonsense".into();
    assert!(matches!(
        store.create_unit(&actor, &scope, &bad_kind).await,
        Err(StoreError::Fields(_))
    ));
}
both!(units_validate_and_refuse_duplicates);

async fn personal_numbers_are_encrypted_at_rest_and_searchable(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let actor = Actor::system("test");
    let fanjia = store.place_by_code(&w.a1.code).await.unwrap().unwrap();
    let scope = Scope::Subtree(fanjia.path.clone());
    let unit = store.unit_options(&Scope::Everything).await.unwrap()[0].0;
    let input = MemberInput {
        name: "测试党员".into(),
        mobile: "13787654321".into(),
        id_card: "11010519491231002X".into(),
        unit_id: unit.to_string(),
        community_id: fanjia.id.to_string(),
        skills: vec!["it".into()],
        separated_residence: true,
    };
    let v = input.validate().unwrap();
    let community = store
        .member_refs(&scope, v.unit_id, v.community_id, &v.skills)
        .await
        .unwrap();
    let id = store
        .create_member(&actor, &community, &v, UnitLink::Confirmed)
        .await
        .unwrap();
    let m = store.get_member(&scope, id).await.unwrap();
    assert_eq!(m.mobile_masked, "137****4321");
    assert_eq!(m.id_card_masked.as_deref(), Some("110***********002X"));
    assert_eq!(m.skills, vec!["信息技术".to_string()]);
    // Exact search by mobile works through the keyed hash.
    let found = store
        .list_members(
            &scope,
            &MemberFilter {
                mobile: Some("137 8765 4321".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, id.0);
    // Duplicate mobile is refused with its own code.
    let mut again = input.clone();
    again.id_card = String::new();
    match store
        .create_member(
            &actor,
            &community,
            &again.validate().unwrap(),
            UnitLink::Confirmed,
        )
        .await
    {
        Err(StoreError::Fields(f)) => {
            assert_eq!(f.get("mobile").unwrap().code, Code::DuplicateMobile)
        }
        other => panic!("expected duplicate mobile, got {other:?}"),
    }
    // The full value comes back only through the audited reveal.
    let full = store
        .reveal_member_personal(&actor, &scope, id)
        .await
        .unwrap();
    assert_eq!(full.mobile, "13787654321");
    let audit = store
        .list_audit(
            &shanzhi_store::AuditFilter {
                action: Some("member.reveal".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    assert!(
        !audit.items[0]
            .target
            .clone()
            .unwrap_or_default()
            .contains("13787654321")
    );
    // At rest: no column holds the number in clear.
    let raw = t.raw_strings("SELECT mobile_enc FROM members").await;
    assert!(
        raw.iter()
            .all(|v| !v.contains("13787654321") && v.starts_with('k'))
    );
    store.close().await;
    if db == Db::Sqlite {
        // Scan the raw database files (main file and WAL) for the seeded number.
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", t.sqlite_file().display());
            if let Ok(bytes) = std::fs::read(&path) {
                let needle = b"13787654321";
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "found a mobile number in clear in {path}"
                );
                let needle = b"11010519491231002X";
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "found an ID number in clear in {path}"
                );
            }
        }
    }
}
both!(personal_numbers_are_encrypted_at_rest_and_searchable);

async fn audit_chain_detects_edits_and_deletions(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    World::two_towns(&store).await;
    // The fixture's writes are audited; sealed, the chain verifies.
    store.seal_audit().await.unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(
        report.rows > 10,
        "the fixture writes are audited ({} rows)",
        report.rows
    );
    assert_eq!(report.pending, 0);
    t.raw_exec("UPDATE audit_log SET result = 'forged' WHERE id = 5")
        .await;
    let report = store.verify_audit().await.unwrap();
    assert!(
        matches!(
            report.problems.as_slice(),
            [shanzhi_store::AuditProblem::RowEdited { id: 5, .. }]
        ),
        "{:?}",
        report.problems
    );
    // Deletion, on a fresh database.
    let t2 = TestDb::new(db).await;
    let s2 = t2.store().await;
    World::two_towns(&s2).await;
    s2.seal_audit().await.unwrap();
    t2.raw_exec("DELETE FROM audit_log WHERE id = 7").await;
    let report = s2.verify_audit().await.unwrap();
    assert!(
        matches!(
            report.problems.as_slice(),
            [shanzhi_store::AuditProblem::RowsDeleted { before_id: 8, .. }]
        ),
        "{:?}",
        report.problems
    );
}
both!(audit_chain_detects_edits_and_deletions);

async fn concurrent_writes_keep_the_audit_chain_linear(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let fanjia = store.place_by_code(&w.a1.code).await.unwrap().unwrap();
    let unit = store.unit_options(&Scope::Everything).await.unwrap()[0].0;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let fanjia = fanjia.clone();
        tasks.push(tokio::spawn(async move {
            let input = MemberInput {
                name: format!("并发{i}"),
                mobile: format!("1380000{:04}", i),
                id_card: String::new(),
                unit_id: unit.to_string(),
                community_id: fanjia.id.to_string(),
                skills: vec![],
                separated_residence: false,
            };
            store
                .create_member(
                    &Actor::system("t"),
                    &fanjia,
                    &input.validate().unwrap(),
                    UnitLink::Confirmed,
                )
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(store.seal_audit().await.unwrap().sealed >= 16);
    let report = store.verify_audit().await.unwrap();
    assert!(
        report.is_ok() && report.pending == 0,
        "chain intact after concurrent writes: {:?}",
        report.problems
    );
}
both!(concurrent_writes_keep_the_audit_chain_linear);

async fn a_bare_sqlite_path_must_exist(_db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let config = shanzhi_store::DbConfig {
        data_dir: dir.path().into(),
        database_url: Some(dir.path().join("typo.db").display().to_string()),
    };
    let err = shanzhi_store::Store::open(&config).await.unwrap_err();
    assert!(err.to_string().contains("不存在"));
    assert!(!dir.path().join("typo.db").exists());
}

#[tokio::test]
async fn bare_sqlite_path() {
    a_bare_sqlite_path_must_exist(Db::Sqlite).await;
}

/// A member edit as the use case runs it: the record in scope, its references looked up in the same scope.
async fn edit_member(
    store: &shanzhi_store::Store,
    actor: &Actor,
    scope: &Scope,
    id: MemberId,
    edit: &MemberInput,
) -> Result<(), StoreError> {
    let v = edit.validate_edit().map_err(StoreError::Fields)?;
    let current = store.get_member(scope, id).await?;
    let community = store
        .member_refs(scope, v.unit_id, v.community_id, &v.skills)
        .await?;
    store
        .update_member(actor, &current, &community, &v, None)
        .await
}

async fn editing_a_member_keeps_numbers_left_blank(db: Db) {
    let t = TestDb::new(db).await;
    let store = t.store().await;
    let w = World::two_towns(&store).await;
    let actor = Actor::system("test");
    let fanjia = store.place_by_code(&w.a1.code).await.unwrap().unwrap();
    let scope = Scope::Subtree(fanjia.path.clone());
    let m = store
        .list_members(&scope, &MemberFilter::default(), PageReq::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let before = store
        .reveal_member_personal(&actor, &scope, MemberId(m.id))
        .await
        .unwrap();
    let mut edit = MemberInput {
        name: "改名后".into(),
        mobile: String::new(),
        id_card: String::new(),
        unit_id: m.unit_id.to_string(),
        community_id: m.community_id.to_string(),
        skills: vec!["legal".into()],
        separated_residence: false,
    };
    edit_member(&store, &actor, &scope, MemberId(m.id), &edit)
        .await
        .unwrap();
    let after = store
        .reveal_member_personal(&actor, &scope, MemberId(m.id))
        .await
        .unwrap();
    assert_eq!(
        after.mobile, before.mobile,
        "a blank mobile keeps the stored one"
    );
    assert_eq!(after.id_card, before.id_card);
    assert_eq!(
        store.get_member(&scope, MemberId(m.id)).await.unwrap().name,
        "改名后"
    );
    edit.mobile = "13600001111".into();
    edit_member(&store, &actor, &scope, MemberId(m.id), &edit)
        .await
        .unwrap();
    let changed = store.get_member(&scope, MemberId(m.id)).await.unwrap();
    assert_eq!(changed.mobile_masked, "136****1111");
    assert_eq!(changed.skills, vec!["法律服务".to_string()]);
    // Moving to a community outside the caller's subtree is refused.
    let jiaxiao = store.place_by_code(&w.b1.code).await.unwrap().unwrap();
    edit.community_id = jiaxiao.id.to_string();
    assert!(matches!(
        edit_member(&store, &actor, &scope, MemberId(m.id), &edit).await,
        Err(StoreError::Fields(_))
    ));
}
both!(editing_a_member_keeps_numbers_left_blank);

/// A PostgreSQL server that requires TLS (`sslmode=require`) works: sqlx is built with rustls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_sslmode_require() {
    let t = TestDb::new(Db::Postgres).await;
    let url = format!("{}?sslmode=require", t.url.clone().unwrap());
    let store = shanzhi_store::Store::open(&shanzhi_store::DbConfig {
        data_dir: t.dir.path().to_path_buf(),
        database_url: Some(url.clone()),
    })
    .await
    .expect("the store opens over TLS");
    store.set_setting("tls_check", "ok").await.unwrap();
    assert_eq!(
        store.get_setting("tls_check").await.unwrap().as_deref(),
        Some("ok")
    );
    store.close().await;
    // The same options really negotiate TLS.
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert!(ssl, "sslmode=require connected without TLS");
}
