//! 报到接收 on both databases: every scenario runs on SQLite (a temp dir) and on PostgreSQL (a fresh database from
//! the shared harness `support/pg.rs`, on `SHANZHI_TEST_PG`, dropped afterwards). PostgreSQL must be reachable:
//! the tests fail, not skip, without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;

use shanzhi_domain::org::{ValidMember, ValidPlace, ValidUnit};
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::registration::{
    ActivityInput, AllianceInput, Availability, PairingInput, PairingStatus, ProjectGrade,
    ProjectInput, RegistrationStatus, ResourceInput, RoundInput, Slot, UnitRegistrationInput,
    ValidRegistration,
};
use shanzhi_domain::role::Scope;
use shanzhi_domain::roster::UnitLink;
use shanzhi_domain::{Code, MemberId, PlaceId, RegistrationId, RoundId, UnitId, validate};
use shanzhi_store::registration::RegistrationFilter;
use shanzhi_store::registration::pairing::ProjectFilter;
use shanzhi_store::{Actor, DbConfig, PageReq, Store, StoreError};

#[path = "support/pg.rs"]
mod pg;

// ------------------------------------------------------------------ harness

enum Backend {
    Sqlite,
    Postgres,
}

struct TestDb {
    store: Store,
    _dir: tempfile::TempDir,
    pg: Option<pg::PgTestDb>,
}

impl TestDb {
    async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(pg::PgTestDb::create().await),
        };
        let store = Store::open(&DbConfig {
            data_dir: dir.path().to_path_buf(),
            database_url: pg.as_ref().map(|p| p.url.clone()),
        })
        .await
        .unwrap();
        TestDb {
            store,
            _dir: dir,
            pg,
        }
    }

    /// Closes the store, then drops the PostgreSQL database (if any).
    async fn finish(self) {
        self.store.close().await;
        drop(self.pg);
    }
}

/// Runs a scenario on SQLite, then on PostgreSQL; the database is removed even when the scenario fails.
async fn on_both<F, Fut>(scenario: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Both backends always run; a failure on the first does not hide the result of the second.
    let mut failed = Vec::new();
    for (backend, expected) in [
        (Backend::Sqlite, shanzhi_store::Backend::Sqlite),
        (Backend::Postgres, shanzhi_store::Backend::Postgres),
    ] {
        let db = TestDb::new(backend).await;
        assert_eq!(db.store.backend(), expected);
        let result = tokio::spawn(scenario(db.store.clone())).await;
        let label = format!("{:?}", db.store.backend());
        db.finish().await;
        match result {
            Ok(()) => eprintln!("scenario passed on {label}"),
            Err(e) => {
                eprintln!("scenario FAILED on {label}");
                failed.push((label, e));
            }
        }
    }
    let labels: Vec<String> = failed.iter().map(|(l, _)| l.clone()).collect();
    if let Some((_, e)) = failed.pop() {
        eprintln!("failed on: {}", labels.join(", "));
        std::panic::resume_unwind(e.into_panic());
    }
}

// ------------------------------------------------------------------ fixtures

fn actor() -> Actor {
    Actor::system("test")
}

/// The code a store error carries (refusal, first field error or not_found).
fn code(e: StoreError) -> Code {
    match e {
        StoreError::Refused(c) => c,
        StoreError::Fields(f) => f.0[0].code,
        StoreError::NotFound => Code::NotFound,
        other => panic!("unexpected error {other:?}"),
    }
}

fn err<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Code {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => code(e),
    }
}

struct Fx {
    district: Scope,
    c1: PlaceId,
    c2: PlaceId,
    g1: PlaceId,
    g2: PlaceId,
    c1_admin: Scope,
    c2_admin: Scope,
    unit: UnitId,
    other_unit: UnitId,
    members: Vec<MemberId>,
}

fn place(code: &str, name: &str) -> ValidPlace {
    ValidPlace {
        code: code.into(),
        name: name.into(),
        party_org_name: Some(format!("{name}党组织")),
        party_org_level: None,
    }
}

fn credit_code(n: u32) -> String {
    let first = format!("91310114{n:09}");
    let check = validate::credit_code_check_char(&first).unwrap();
    format!("{first}{check}")
}

async fn fixture(s: &Store) -> Fx {
    let a = actor();
    s.seed_dictionaries().await.unwrap();
    let root = s
        .create_place(&a, &Scope::Everything, None, &place("jd", "嘉定区"))
        .await
        .unwrap();
    let root_path = s.get_place_unscoped(root).await.unwrap().path;
    let district = Scope::Subtree(root_path);
    let town = s
        .create_place(&a, &district, Some(root), &place("ml", "马陆镇"))
        .await
        .unwrap();
    let c1 = s
        .create_place(&a, &district, Some(town), &place("fj", "樊家村"))
        .await
        .unwrap();
    let c2 = s
        .create_place(&a, &district, Some(town), &place("dj", "大裕村"))
        .await
        .unwrap();
    let g1 = s
        .create_place(&a, &district, Some(c1), &place("fj1", "樊家村第一网格"))
        .await
        .unwrap();
    let g2 = s
        .create_place(&a, &district, Some(c2), &place("dj1", "大裕村第一网格"))
        .await
        .unwrap();
    let c1_admin = Scope::Subtree(s.get_place_unscoped(c1).await.unwrap().path);
    let c2_admin = Scope::Subtree(s.get_place_unscoped(c2).await.unwrap().path);
    let mut units = Vec::new();
    for (i, name) in ["嘉定区林业站", "上海某科技公司"].into_iter().enumerate() {
        let u = ValidUnit {
            name: name.into(),
            kind: "soe".into(),
            credit_code: credit_code(u32::try_from(i).unwrap() + 1),
            place_id: town,
            party_org_name: format!("{name}党支部"),
            party_org_level: PartyOrgLevel::Branch,
            contact_name: None,
            contact_phone: None,
        };
        units.push(s.create_unit(&a, &district, &u).await.unwrap());
    }
    let mut members = Vec::new();
    for i in 0..3u32 {
        let m = ValidMember {
            name: format!("党员{i}"),
            mobile: format!("139{:08}", i + 1),
            id_card: None,
            unit_id: units[0],
            community_id: c1,
            skills: vec!["medical".into()],
            separated_residence: false,
        };
        let community = s
            .member_refs(&district, m.unit_id, m.community_id, &m.skills)
            .await
            .unwrap();
        members.push(
            s.create_member(&a, &community, &m, UnitLink::Confirmed)
                .await
                .unwrap(),
        );
    }
    Fx {
        district,
        c1,
        c2,
        g1,
        g2,
        c1_admin,
        c2_admin,
        unit: units[0],
        other_unit: units[1],
        members,
    }
}

async fn open(s: &Store, year: u32, carry_over: bool) -> RoundId {
    let v = RoundInput {
        name: format!("{year}年度"),
        year: year.to_string(),
        starts_on: format!("{year}-01-01"),
        ends_on: format!("{year}-12-31"),
        carry_over,
    }
    .validate()
    .unwrap();
    s.open_round(&actor(), &v).await.unwrap()
}

fn reg_to(community: PlaceId) -> ValidRegistration {
    ValidRegistration {
        community_id: community,
        skills: vec!["medical".into()],
        intentions: vec!["elderly_care".into()],
        availability: Availability::empty()
            .with(Slot::WeekendMorning)
            .with(Slot::WeekdayEvening),
    }
}

async fn submit(s: &Store, m: MemberId, community: PlaceId) -> Result<RegistrationId, StoreError> {
    s.submit_registration(&actor(), &Scope::Member(m), m, &reg_to(community))
        .await
}

async fn status(s: &Store, fx: &Fx, id: RegistrationId) -> RegistrationStatus {
    s.get_registration(&fx.district, id).await.unwrap().status()
}

// ------------------------------------------------------------------ scenarios

async fn state_machine(s: Store) {
    let fx = fixture(&s).await;
    let a = actor();
    let m = fx.members[0];
    let me = Scope::Member(m);

    assert_eq!(err(submit(&s, m, fx.c1).await), Code::RoundNotOpen);
    let round = open(&s, 2026, false).await;
    let year_round = s.get_round(round).await.unwrap();
    assert!(year_round.is_open());

    // Validation of the target and dictionary codes.
    assert_eq!(err(submit(&s, m, fx.g1).await), Code::InvalidPlaceLevel);
    let mut bad = reg_to(fx.c1);
    bad.skills = vec!["juggling".into()];
    assert_eq!(
        err(s.submit_registration(&a, &me, m, &bad).await),
        Code::InvalidChoice
    );

    let id = submit(&s, m, fx.c1).await.unwrap();
    assert_eq!(status(&s, &fx, id).await, RegistrationStatus::Submitted);
    assert_eq!(err(submit(&s, m, fx.c2).await), Code::AlreadyRegistered);
    let r = s.get_registration(&me, id).await.unwrap();
    assert_eq!(r.availability, "weekday_evening,weekend_morning");
    assert_eq!(r.availability_label(), "工作日晚上、周末上午");

    // Submitted: owner-only and reviewer-only events, refusals with their codes.
    assert_eq!(
        err(s.confirm_carried(&a, &me, id).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.transfer_registration(&a, &me, id, fx.c2).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.resubmit_registration(&a, &me, id, &reg_to(fx.c1)).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.accept_registration(&a, &fx.c1_admin, id, None).await),
        Code::GridRequired
    );
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, id, Some(fx.g2))
            .await),
        Code::InvalidGrid,
        "a grid of another community"
    );
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, id, Some(fx.c1))
            .await),
        Code::InvalidGrid,
        "the community itself is not a grid"
    );
    assert_eq!(
        err(s.return_registration(&a, &fx.c1_admin, id, "  ").await),
        Code::ReasonRequired
    );

    // Returned.
    s.return_registration(&a, &fx.c1_admin, id, "地址不在本村")
        .await
        .unwrap();
    let r = s.get_registration(&me, id).await.unwrap();
    assert_eq!(r.status(), RegistrationStatus::Returned);
    assert_eq!(r.return_reason.as_deref(), Some("地址不在本村"));
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, id, Some(fx.g1))
            .await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.return_registration(&a, &fx.c1_admin, id, "again").await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.withdraw_registration(&a, &me, id).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.confirm_carried(&a, &me, id).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.transfer_registration(&a, &me, id, fx.c2).await),
        Code::IllegalTransition
    );
    assert_eq!(err(s.registration_receipt(&me, id).await), Code::NotFound);

    // Resubmitted, then accepted into a grid with a receipt.
    s.resubmit_registration(&a, &me, id, &reg_to(fx.c1))
        .await
        .unwrap();
    assert_eq!(status(&s, &fx, id).await, RegistrationStatus::Submitted);
    let receipt = s
        .accept_registration(&a, &fx.c1_admin, id, Some(fx.g1))
        .await
        .unwrap();
    assert_eq!(receipt, format!("HZ2026-{:06}", id.0));
    let member = s.get_member(&fx.district, m).await.unwrap();
    assert_eq!(member.grid_id, Some(fx.g1.0));
    assert_eq!(
        member.place_path,
        s.get_place_unscoped(fx.g1).await.unwrap().path
    );
    let rc = s.registration_receipt(&me, id).await.unwrap();
    assert_eq!(rc.receipt_no, receipt);
    assert_eq!(rc.grid_name.as_deref(), Some("樊家村第一网格"));

    // Accepted.
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, id, Some(fx.g1))
            .await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.return_registration(&a, &fx.c1_admin, id, "x").await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.confirm_carried(&a, &me, id).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.resubmit_registration(&a, &me, id, &reg_to(fx.c1)).await),
        Code::IllegalTransition
    );
    assert_eq!(err(submit(&s, m, fx.c1).await), Code::AlreadyRegistered);

    // Withdrawn: terminal, and frees the member to register again.
    s.withdraw_registration(&a, &me, id).await.unwrap();
    assert_eq!(status(&s, &fx, id).await, RegistrationStatus::Withdrawn);
    for e in [
        err(s.withdraw_registration(&a, &me, id).await),
        err(s.confirm_carried(&a, &me, id).await),
        err(s.transfer_registration(&a, &me, id, fx.c2).await),
        err(s
            .accept_registration(&a, &fx.c1_admin, id, Some(fx.g1))
            .await),
        err(s.return_registration(&a, &fx.c1_admin, id, "x").await),
        err(s.resubmit_registration(&a, &me, id, &reg_to(fx.c1)).await),
    ] {
        assert_eq!(e, Code::IllegalTransition);
    }
    let again = submit(&s, m, fx.c1).await.unwrap();

    // Round end: the pending registration expires (recorded), then nothing applies to it.
    assert_eq!(s.close_round(&a, round).await.unwrap(), 1);
    assert_eq!(status(&s, &fx, again).await, RegistrationStatus::Expired);
    assert_eq!(err(s.close_round(&a, round).await), Code::RoundNotOpen);
    for e in [
        err(s.withdraw_registration(&a, &me, again).await),
        err(s
            .accept_registration(&a, &fx.c1_admin, again, Some(fx.g1))
            .await),
        err(s.confirm_carried(&a, &me, again).await),
    ] {
        assert_eq!(e, Code::IllegalTransition);
    }
    let hist = s.registration_history(&me, again).await.unwrap();
    let last = hist.last().unwrap();
    assert_eq!(
        (last.from_status.as_deref(), last.to_status.as_str()),
        (Some("submitted"), "expired")
    );
    assert_eq!(err(submit(&s, m, fx.c1).await), Code::RoundNotOpen);
    // Nothing was deleted: both registrations are still listed.
    let all = s
        .list_registrations(&me, &RegistrationFilter::default(), PageReq::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    s.seal_audit().await.unwrap();
    assert!(s.verify_audit().await.unwrap().is_ok());
}

async fn concurrent_submissions(s: Store) {
    let fx = fixture(&s).await;
    open(&s, 2026, false).await;
    let m = fx.members[0];
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        let community = if i % 2 == 0 { fx.c1 } else { fx.c2 };
        tasks.push(tokio::spawn(async move { submit(&s, m, community).await }));
    }
    let (mut ok, mut already) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Refused(Code::AlreadyRegistered)) => already += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, already), (1, 19));
    let list = s
        .list_registrations(
            &fx.district,
            &RegistrationFilter::default(),
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(list.total, 1);
}

async fn transfer_history(s: Store) {
    let fx = fixture(&s).await;
    let a = actor();
    open(&s, 2026, false).await;
    let m = fx.members[0];
    let me = Scope::Member(m);
    let old = submit(&s, m, fx.c1).await.unwrap();
    s.accept_registration(&a, &fx.c1_admin, old, Some(fx.g1))
        .await
        .unwrap();
    assert_eq!(
        err(s.transfer_registration(&a, &me, old, fx.c1).await),
        Code::SameCommunity
    );
    assert_eq!(
        err(s.transfer_registration(&a, &fx.c2_admin, old, fx.c2).await),
        Code::NotFound,
        "the new community cannot release the old registration"
    );
    // A transfer the new community returns leaves the old registration in force.
    let first = s.transfer_registration(&a, &me, old, fx.c2).await.unwrap();
    s.return_registration(&a, &fx.c2_admin, first, "请核实居住地址")
        .await
        .unwrap();
    assert_eq!(status(&s, &fx, old).await, RegistrationStatus::Accepted);

    let new = s.transfer_registration(&a, &me, old, fx.c2).await.unwrap();
    // Until the new community accepts, the old registration stays accepted (the member keeps a community).
    assert_eq!(status(&s, &fx, old).await, RegistrationStatus::Accepted);
    let n = s.get_registration(&fx.c2_admin, new).await.unwrap();
    assert_eq!(n.status(), RegistrationStatus::TransferPending);
    assert_eq!(n.transferred_from, Some(old.0));
    assert_eq!(
        err(s.transfer_registration(&a, &me, old, fx.c2).await),
        Code::TransferAlreadyPending,
        "one waiting transfer at a time"
    );
    // It waits in the new community's 待接收 queue, marked as a transfer.
    let queue = s
        .list_registrations(
            &fx.c2_admin,
            &RegistrationFilter {
                status: Some("submitted".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].status(), RegistrationStatus::TransferPending);
    // The old community keeps its record; the new one does not see it.
    assert!(s.get_registration(&fx.c1_admin, old).await.is_ok());
    assert_eq!(
        err(s.get_registration(&fx.c1_admin, new).await),
        Code::NotFound
    );
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, new, Some(fx.g1))
            .await),
        Code::NotFound
    );
    s.accept_registration(&a, &fx.c2_admin, new, Some(fx.g2))
        .await
        .unwrap();
    // Accepting the transfer releases the old registration in the same transaction.
    assert_eq!(
        status(&s, &fx, old).await,
        RegistrationStatus::TransferredOut
    );
    assert_eq!(status(&s, &fx, new).await, RegistrationStatus::Accepted);
    let member = s.get_member(&fx.district, m).await.unwrap();
    assert_eq!(
        (member.community_id, member.grid_id),
        (fx.c2.0, Some(fx.g2.0))
    );
    // Transferred out is terminal.
    assert_eq!(
        err(s.withdraw_registration(&a, &me, old).await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.transfer_registration(&a, &me, old, fx.c2).await),
        Code::IllegalTransition
    );

    let hist = s.registration_history(&me, new).await.unwrap();
    let steps: Vec<(i64, Option<&str>, &str, &str)> = hist
        .iter()
        .filter(|h| h.registration_id != first.0)
        .map(|h| {
            (
                h.registration_id,
                h.from_status.as_deref(),
                h.to_status.as_str(),
                h.community_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (old.0, None, "submitted", "樊家村"),
            (old.0, Some("submitted"), "accepted", "樊家村"),
            (old.0, Some("accepted"), "accepted", "樊家村"),
            (old.0, Some("accepted"), "accepted", "樊家村"),
            (new.0, None, "transfer_pending", "大裕村"),
            (old.0, Some("accepted"), "transferred_out", "樊家村"),
            (new.0, Some("transfer_pending"), "accepted", "大裕村"),
        ]
    );
    let transfer_in = hist
        .iter()
        .find(|h| h.registration_id == new.0)
        .and_then(|h| h.note.clone())
        .unwrap_or_default();
    assert!(transfer_in.contains("樊家村 → 大裕村"), "{transfer_in}");
    // Both sides see the same history.
    assert_eq!(
        s.registration_history(&fx.c1_admin, old)
            .await
            .unwrap()
            .len(),
        hist.len()
    );
    s.seal_audit().await.unwrap();
    assert!(s.verify_audit().await.unwrap().is_ok());
}

async fn scope_rules(s: Store) {
    let fx = fixture(&s).await;
    let a = actor();
    let round = open(&s, 2026, false).await;
    let m = fx.members[0];
    let id = submit(&s, m, fx.c1).await.unwrap();

    // Another community's admin: 404 for reading, accepting and returning.
    assert_eq!(
        err(s.get_registration(&fx.c2_admin, id).await),
        Code::NotFound
    );
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c2_admin, id, Some(fx.g2))
            .await),
        Code::NotFound
    );
    assert_eq!(
        err(s
            .return_registration(&a, &fx.c2_admin, id, "不是本村")
            .await),
        Code::NotFound
    );
    // Another member, another unit: 404.
    let other = Scope::Member(fx.members[1]);
    assert_eq!(err(s.get_registration(&other, id).await), Code::NotFound);
    assert_eq!(
        err(s.withdraw_registration(&a, &other, id).await),
        Code::NotFound
    );
    assert_eq!(
        err(s.get_registration(&Scope::Unit(fx.other_unit), id).await),
        Code::NotFound
    );
    assert_eq!(
        err(s.submit_registration(&a, &other, m, &reg_to(fx.c1)).await),
        Code::NotFound,
        "a member cannot register someone else"
    );
    let listed = s
        .list_registrations(
            &fx.c2_admin,
            &RegistrationFilter::default(),
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 0);

    s.accept_registration(&a, &fx.c1_admin, id, Some(fx.g1))
        .await
        .unwrap();
    // After placement in a grid the community (and town, district) still see it.
    let listed = s
        .list_registrations(
            &fx.c1_admin,
            &RegistrationFilter {
                status: Some("accepted".into()),
                round_id: Some(round.0),
                q: Some("党员".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    // The home unit's admin sees the receipt and the rate; another unit does not.
    let home = Scope::Unit(fx.unit);
    let rc = s.registration_receipt(&home, id).await.unwrap();
    assert_eq!(rc.member_name, "党员0");
    assert_eq!(
        err(s
            .registration_receipt(&Scope::Unit(fx.other_unit), id)
            .await),
        Code::NotFound
    );
    submit(&s, fx.members[1], fx.c2).await.unwrap();
    let rate = s
        .unit_registration_rate(&home, fx.unit, round)
        .await
        .unwrap();
    assert_eq!(
        (rate.total_members, rate.registered, rate.accepted),
        (3, 2, 1)
    );
    assert!((rate.rate - 2.0 / 3.0).abs() < 1e-9);
    let missing: Vec<i64> = rate.not_registered().map(|m| m.member_id).collect();
    assert_eq!(missing, vec![fx.members[2].0]);
    assert_eq!(
        err(s
            .unit_registration_rate(&Scope::Unit(fx.other_unit), fx.unit, round)
            .await),
        Code::NotFound
    );
}

async fn carry_over(s: Store) {
    let fx = fixture(&s).await;
    let a = actor();
    let r25 = open(&s, 2025, false).await;
    let [m0, m1, m2] = [fx.members[0], fx.members[1], fx.members[2]];
    let acc0 = submit(&s, m0, fx.c1).await.unwrap();
    s.accept_registration(&a, &fx.c1_admin, acc0, Some(fx.g1))
        .await
        .unwrap();
    let acc2 = submit(&s, m2, fx.c1).await.unwrap();
    s.accept_registration(&a, &fx.c1_admin, acc2, Some(fx.g1))
        .await
        .unwrap();
    let pending = submit(&s, m1, fx.c1).await.unwrap();
    // One open round at a time.
    let v = RoundInput {
        name: "2026年度".into(),
        year: "2026".into(),
        starts_on: "2026-01-01".into(),
        ends_on: "2026-12-31".into(),
        carry_over: true,
    }
    .validate()
    .unwrap();
    assert_eq!(err(s.open_round(&a, &v).await), Code::RoundOverlap);
    assert_eq!(s.close_round(&a, r25).await.unwrap(), 1);
    assert_eq!(status(&s, &fx, pending).await, RegistrationStatus::Expired);
    assert_eq!(status(&s, &fx, acc0).await, RegistrationStatus::Accepted);

    // Opening 2026 with carry-over copies the two accepted registrations as carried.
    let r26 = s.open_round(&a, &v).await.unwrap();
    assert_eq!(s.current_round().await.unwrap().unwrap().id, r26.0);
    let carried = s
        .list_registrations(
            &fx.district,
            &RegistrationFilter {
                round_id: Some(r26.0),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(carried.total, 2);
    for r in &carried.items {
        assert_eq!(r.status(), RegistrationStatus::Carried);
        assert_eq!(r.grid_id, Some(fx.g1.0));
        assert!(r.carried_from.is_some());
        assert!(r.receipt_no.is_none());
    }
    let c0 = carried.items.iter().find(|r| r.member_id == m0.0).unwrap();
    let c2 = carried.items.iter().find(|r| r.member_id == m2.0).unwrap();
    let (c0, c2) = (c0.id(), c2.id());
    // A carried registration counts as the member's registration in the round.
    assert_eq!(err(submit(&s, m0, fx.c1).await), Code::AlreadyRegistered);
    // Carried: only confirm or withdraw (by the owner); review events do not apply.
    assert_eq!(
        err(s
            .accept_registration(&a, &fx.c1_admin, c0, Some(fx.g1))
            .await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s.return_registration(&a, &fx.c1_admin, c0, "x").await),
        Code::IllegalTransition
    );
    assert_eq!(
        err(s
            .transfer_registration(&a, &Scope::Member(m0), c0, fx.c2)
            .await),
        Code::IllegalTransition
    );
    let receipt = s.confirm_carried(&a, &Scope::Member(m0), c0).await.unwrap();
    assert_eq!(receipt, format!("HZ2026-{:06}", c0.0));
    assert_eq!(status(&s, &fx, c0).await, RegistrationStatus::Accepted);
    s.withdraw_registration(&a, &Scope::Member(m2), c2)
        .await
        .unwrap();
    // Carrying again changes nothing: confirmed ones are active, withdrawn ones were carried already.
    assert_eq!(s.carry_over(&a, r25, r26).await.unwrap(), 0);
    // The expired member registers afresh.
    submit(&s, m1, fx.c1).await.unwrap();
    let hist = s
        .registration_history(&Scope::Member(m0), c0)
        .await
        .unwrap();
    let to: Vec<&str> = hist.iter().map(|h| h.to_status.as_str()).collect();
    assert_eq!(to, vec!["carried", "accepted"]);
    // Rounds list newest first.
    let rounds = s.list_rounds().await.unwrap();
    assert_eq!(
        rounds.iter().map(|r| r.year).collect::<Vec<_>>(),
        vec![2026, 2025]
    );
}

async fn units_pairings_projects(s: Store) {
    let fx = fixture(&s).await;
    let a = actor();
    let home = Scope::Unit(fx.unit);
    open(&s, 2026, false).await;

    // Unit registration with the community.
    let ur_in = UnitRegistrationInput {
        place_id: fx.c1.to_string(),
        contact_name: "王书记".into(),
        contact_phone: "13912345678".into(),
        note: "林业技术、义务植树".into(),
    }
    .validate()
    .unwrap();
    let ur = s
        .submit_unit_registration(&a, &home, fx.unit, &ur_in)
        .await
        .unwrap();
    assert_eq!(
        err(s.submit_unit_registration(&a, &home, fx.unit, &ur_in).await),
        Code::AlreadyRegistered
    );
    assert_eq!(
        err(s
            .submit_unit_registration(&a, &Scope::Unit(fx.other_unit), fx.unit, &ur_in)
            .await),
        Code::NotFound
    );
    assert_eq!(
        err(s.accept_unit_registration(&a, &fx.c2_admin, ur).await),
        Code::NotFound
    );
    assert_eq!(
        err(s.accept_unit_registration(&a, &home, ur).await),
        Code::Forbidden
    );
    // Before acceptance the unit cannot be a grid partner.
    assert_eq!(
        err(s.link_grid_partner(&a, &fx.c1_admin, fx.unit, fx.g1).await),
        Code::InvalidUnit
    );
    s.accept_unit_registration(&a, &fx.c1_admin, ur)
        .await
        .unwrap();
    assert_eq!(
        err(s.return_unit_registration(&a, &fx.c1_admin, ur, "x").await),
        Code::IllegalTransition
    );
    let got = s.get_unit_registration(&home, ur).await.unwrap();
    assert_eq!(got.contact_phone_masked.as_deref(), Some("139****5678"));

    // Resources.
    let res_in = ResourceInput {
        title: "林业技术指导".into(),
        description: "".into(),
        capacity: "5".into(),
        schedule: "每月第一个周六上午".into(),
        unit_registration_id: ur.to_string(),
    }
    .validate()
    .unwrap();
    let res = s
        .save_resource(&a, &home, fx.unit, None, &res_in)
        .await
        .unwrap();
    assert_eq!(s.list_resources(&fx.c1_admin, None).await.unwrap().len(), 1);
    assert_eq!(s.list_resources(&fx.c2_admin, None).await.unwrap().len(), 0);
    let mut upd = res_in.clone();
    upd.capacity = 8;
    s.save_resource(&a, &home, fx.unit, Some(res), &upd)
        .await
        .unwrap();
    assert_eq!(s.get_resource(&home, res).await.unwrap().capacity, 8);
    assert_eq!(
        err(s
            .save_resource(
                &a,
                &Scope::Unit(fx.other_unit),
                fx.other_unit,
                Some(res),
                &upd
            )
            .await),
        Code::NotFound
    );
    s.delete_resource(&a, &home, res).await.unwrap();
    assert!(s.list_resources(&home, None).await.unwrap().is_empty());

    // Grid partners.
    s.link_grid_partner(&a, &fx.c1_admin, fx.unit, fx.g1)
        .await
        .unwrap();
    s.link_grid_partner(&a, &fx.c1_admin, fx.unit, fx.g1)
        .await
        .unwrap();
    assert_eq!(
        err(s.link_grid_partner(&a, &fx.c1_admin, fx.unit, fx.g2).await),
        Code::InvalidPlace,
        "a grid outside the caller's community"
    );
    assert_eq!(
        err(s.link_grid_partner(&a, &fx.c2_admin, fx.unit, fx.g2).await),
        Code::InvalidUnit,
        "not registered with that community"
    );
    assert_eq!(s.list_grid_partners(&home).await.unwrap().len(), 1);
    s.unlink_grid_partner(&a, &fx.c1_admin, fx.unit, fx.g1)
        .await
        .unwrap();
    assert!(s.list_grid_partners(&fx.c1_admin).await.unwrap().is_empty());

    // Pairing agreement and a joint project with activities.
    let pv = PairingInput {
        unit_id: fx.unit.to_string(),
        community_id: fx.c1.to_string(),
        term_start: "2026-01-01".into(),
        term_end: "2026-12-31".into(),
        activities_per_quarter: "1".into(),
        targets_note: "每季度至少一次联建活动".into(),
    }
    .validate()
    .unwrap();
    assert_eq!(
        err(s.create_pairing(&a, &fx.c2_admin, &pv).await),
        Code::InvalidPlace
    );
    let pairing = s.create_pairing(&a, &fx.c1_admin, &pv).await.unwrap();
    assert_eq!(
        err(s
            .set_pairing_status(&a, &fx.c1_admin, pairing, PairingStatus::Running, None)
            .await),
        Code::IllegalTransition
    );
    s.set_pairing_status(
        &a,
        &fx.c1_admin,
        pairing,
        PairingStatus::Signed,
        Some("2026-01-15"),
    )
    .await
    .unwrap();
    s.set_pairing_status(&a, &fx.c1_admin, pairing, PairingStatus::Running, None)
        .await
        .unwrap();
    let p = s.get_pairing(&home, pairing).await.unwrap();
    assert_eq!(
        (p.status.as_str(), p.signed_on.as_deref()),
        ("running", Some("2026-01-15"))
    );
    assert_eq!(p.targets().activities_per_quarter, 1);
    assert_eq!(
        err(s.get_pairing(&fx.c2_admin, pairing).await),
        Code::NotFound
    );

    let pj = ProjectInput {
        name: "“林”聚樊家".into(),
        category: "environment".into(),
        pairing_id: pairing.to_string(),
        unit_id: fx.unit.to_string(),
        community_id: fx.c1.to_string(),
        goals: "村内绿化养护".into(),
        period_start: "2026-01-01".into(),
        period_end: "2026-12-31".into(),
    }
    .validate()
    .unwrap();
    let project = s.create_project(&a, &fx.c1_admin, &pj).await.unwrap();
    let mut acts = Vec::new();
    for (t, d) in [
        ("植树", "2026-03-12"),
        ("修枝", "2026-06-01"),
        ("科普", "2026-09-01"),
    ] {
        let v = ActivityInput {
            title: t.into(),
            planned_on: d.into(),
        }
        .validate()
        .unwrap();
        acts.push(
            s.add_project_activity(&a, &fx.c1_admin, project, &v)
                .await
                .unwrap(),
        );
    }
    s.mark_activity_done(&a, &home, acts[0], "2026-03-12")
        .await
        .unwrap();
    s.mark_activity_done(&a, &fx.c1_admin, acts[1], "2026-06-02")
        .await
        .unwrap();
    assert_eq!(
        err(s.mark_activity_done(&a, &home, acts[1], "2026-06-03").await),
        Code::IllegalTransition
    );
    let progress = s.pairing_progress(&fx.c1_admin, pairing).await.unwrap();
    assert_eq!(
        (
            progress.target,
            progress.planned,
            progress.done,
            progress.percent
        ),
        (4, 3, 2, 50)
    );
    let listed = s
        .list_projects(
            &home,
            &ProjectFilter {
                pairing_id: Some(pairing.0),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].category_name.as_deref(), Some("环境整治"));
    assert_eq!(
        err(s
            .grade_project(&a, &home, project, ProjectGrade::Excellent)
            .await),
        Code::Forbidden
    );
    s.grade_project(&a, &fx.c1_admin, project, ProjectGrade::Excellent)
        .await
        .unwrap();
    assert_eq!(
        err(s
            .grade_project(&a, &fx.c1_admin, project, ProjectGrade::Poor)
            .await),
        Code::IllegalTransition
    );
    assert_eq!(
        s.get_project(&home, project).await.unwrap().grade_label(),
        "优"
    );
    s.set_pairing_status(&a, &fx.c1_admin, pairing, PairingStatus::Renewed, None)
        .await
        .unwrap();
    assert_eq!(
        err(s
            .set_pairing_status(&a, &fx.c1_admin, pairing, PairingStatus::Ended, None)
            .await),
        Code::IllegalTransition
    );

    // Alliance of the town.
    let town = s
        .get_place_unscoped(fx.c1)
        .await
        .unwrap()
        .parent_id
        .unwrap();
    let al = AllianceInput {
        name: "融耀合伙人".into(),
        town_id: town.to_string(),
        description: "".into(),
    }
    .validate()
    .unwrap();
    assert_eq!(
        err(s.create_alliance(&a, &fx.c1_admin, &al).await),
        Code::InvalidPlace
    );
    let alliance = s.create_alliance(&a, &fx.district, &al).await.unwrap();
    assert_eq!(
        err(s.create_alliance(&a, &fx.district, &al).await),
        Code::DuplicateCode
    );
    for u in [fx.unit, fx.unit, fx.other_unit] {
        s.add_alliance_unit(&a, &fx.district, alliance, u)
            .await
            .unwrap();
    }
    let list = s.list_alliances(&home).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].units.len(), 2);
    assert!(s.list_alliances(&fx.c1_admin).await.unwrap().is_empty());
    s.seal_audit().await.unwrap();
    assert!(s.verify_audit().await.unwrap().is_ok());
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_state_machine_refuses_every_illegal_transition() {
    on_both(state_machine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_active_registration_per_round_under_concurrency() {
    on_both(concurrent_submissions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfer_keeps_both_sides_in_history() {
    on_both(transfer_history).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_scope_ids_are_not_found() {
    on_both(scope_rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_round_carries_over_accepted_registrations() {
    on_both(carry_over).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unit_registrations_pairings_and_projects() {
    on_both(units_pairings_projects).await;
}
