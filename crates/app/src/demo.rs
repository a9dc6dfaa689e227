//! Demo data: real place and unit names of Jiading, generated people (names, mobiles and ID numbers are made up).
//! `small` builds a few towns with named communities; `district` builds 12 towns, 300 communities, 3,000 grids,
//! 2,000 units and 50,000 members, deterministically.

use serde::Serialize;
use shanzhi_domain::org::{ValidMember, ValidPlace, ValidUnit};
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::role::{Role, Scope};
use shanzhi_domain::validate::{credit_code_check_char, id_card_check_char};
use shanzhi_domain::{MemberId, PlaceId, UnitId};
use shanzhi_store::accounts::{NewAccount, NewBinding};
use shanzhi_store::bulk::{BulkMember, BulkUnit};
use shanzhi_store::{Actor, Store};

pub const DEFAULT_PASSWORD: &str = "Shanzhi@2026";

#[derive(Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub role: String,
    pub scope: String,
}

/// A small deterministic generator (xorshift), so the same scale always gives the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

const TOWNS: [(&str, &str); 12] = [
    ("jdz", "嘉定镇街道"),
    ("malu", "马陆镇"),
    ("juyuan", "菊园新区"),
    ("xcl", "新成路街道"),
    ("zhenxin", "真新街道"),
    ("nanxiang", "南翔镇"),
    ("jiangqiao", "江桥镇"),
    ("anting", "安亭镇"),
    ("xuhang", "徐行镇"),
    ("huating", "华亭镇"),
    ("waigang", "外冈镇"),
    ("gyq", "嘉定工业区"),
];

fn named_communities(town: &str) -> &'static [(&'static str, &'static str)] {
    match town {
        "malu" => &[
            ("fanjia", "樊家村"),
            ("dayu", "大裕村"),
            ("chencun", "陈村村"),
        ],
        "juyuan" => &[("jiaxiao", "嘉筱社区"), ("baihe", "百合社区")],
        "jdz" => &[
            ("ximen", "西门社区"),
            ("zhouqiao", "州桥社区"),
            ("qinghe", "清河路社区"),
        ],
        _ => &[],
    }
}

const UNITS: [(&str, &str, &str, &str, &str); 8] = [
    // (name, kind, party org, level, town code)
    (
        "区林业站",
        "institution",
        "区林业站党支部",
        "branch",
        "malu",
    ),
    ("区卫健委", "organ", "区卫健委机关党委", "committee", "jdz"),
    ("城发集团", "soe", "城发集团党委", "committee", "jdz"),
    (
        "上海大学悉尼工商学院",
        "university",
        "上海大学悉尼工商学院党委",
        "committee",
        "jdz",
    ),
    (
        "区市场监管局",
        "organ",
        "区市场监管局机关党总支",
        "general_branch",
        "juyuan",
    ),
    (
        "区中心医院",
        "hospital",
        "区中心医院党委",
        "committee",
        "juyuan",
    ),
    (
        "嘉定新城发展有限公司",
        "soe",
        "嘉定新城发展有限公司党支部",
        "branch",
        "malu",
    ),
    (
        "菊园科技园企业联合",
        "new_economic",
        "菊园科技园联合党支部",
        "branch",
        "juyuan",
    ),
];

const SURNAMES: &str = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌晨宇欣怡子涵浩然思远嘉禾佳琪雨泽";

fn person_name(rng: &mut Rng) -> String {
    let s: Vec<char> = SURNAMES.chars().collect();
    let g: Vec<char> = GIVEN.chars().collect();
    let mut name = String::new();
    name.push(s[rng.below(s.len())]);
    name.push(g[rng.below(g.len())]);
    if rng.below(3) > 0 {
        name.push(g[rng.below(g.len())]);
    }
    name
}

/// Generated mobile numbers use the 199 0xxx prefix block, in sequence, so they are unique.
fn mobile(i: usize) -> String {
    format!("1990{:07}", i)
}

/// Generated ID numbers: Jiading's area code, a birth date and a sequence number chosen so no two members share one.
fn id_card(i: usize) -> String {
    let birth = chrono_free_date(1965, i / 1000);
    let first = format!("310114{birth}{:03}", i % 1000);
    let check = id_card_check_char(&first).unwrap_or('0');
    format!("{first}{check}")
}

/// `YYYYMMDD` for `offset` days after 1 January of `year` (months of 28 days keep it simple and valid).
fn chrono_free_date(year: usize, offset: usize) -> String {
    let month = 1 + (offset / 28) % 12;
    let day = 1 + offset % 28;
    let year = year + offset / (28 * 12);
    format!("{year:04}{month:02}{day:02}")
}

fn credit_code(prefix: &str, i: usize) -> String {
    let first = format!("{prefix}310114{:09}", i);
    let first: String = first.chars().take(17).collect();
    let check = credit_code_check_char(&first).unwrap_or('0');
    format!("{first}{check}")
}

fn place(code: &str, name: &str, org: Option<String>, level: Option<PartyOrgLevel>) -> ValidPlace {
    ValidPlace {
        code: code.to_string(),
        name: name.to_string(),
        party_org_name: org,
        party_org_level: level,
    }
}

struct Built {
    towns: Vec<(String, PlaceId, String)>,
    communities: Vec<(String, PlaceId, String, String)>, // code, id, path, name
    grids: Vec<(String, PlaceId, String)>,
}

/// Creates the demo data if the database has no places yet; returns the demo accounts either way.
pub async fn ensure(
    store: &Store,
    password: &str,
    scale: &str,
) -> anyhow::Result<Vec<DemoAccount>> {
    let accounts = demo_account_specs();
    if store.root_place().await?.is_some() {
        // Never switch a real district's database into demo mode (which skips the admins' second factor).
        if !store.demo_mode().await? {
            anyhow::bail!(
                "数据目录中已有非演示数据,`demo` 不会改动它 (this data directory holds real data; use `serve`)"
            );
        }
        println!("数据目录中已有演示数据,跳过生成。");
        return Ok(accounts
            .iter()
            .map(|a| DemoAccount {
                username: a.0.into(),
                role: a.1.as_str().into(),
                scope: a.2.into(),
            })
            .collect());
    }
    store.set_setting("demo_mode", "true").await?;
    store.seed_dictionaries().await?;
    let district = scale == "district";
    let actor = Actor::system("demo");
    let all = Scope::Everything;
    let started = std::time::Instant::now();
    let mut rng = Rng(0x5EED_2026_0912);

    // Places.
    let root = store
        .create_place(
            &actor,
            &all,
            None,
            &place(
                "jiading",
                "嘉定区",
                Some("中共上海市嘉定区委员会".into()),
                Some(PartyOrgLevel::Committee),
            ),
        )
        .await?;
    let root_scope = Scope::Subtree(store.get_place_unscoped(root).await?.path);
    let mut built = Built {
        towns: vec![],
        communities: vec![],
        grids: vec![],
    };
    let town_count = if district { 12 } else { 3 };
    for (ti, (tcode, tname)) in TOWNS.iter().take(town_count).enumerate() {
        let tid = store
            .create_place(
                &actor,
                &root_scope,
                Some(root),
                &place(
                    tcode,
                    tname,
                    Some(format!("{tname}党工委")),
                    Some(PartyOrgLevel::Committee),
                ),
            )
            .await?;
        let tpath = store.get_place_unscoped(tid).await?.path;
        built.towns.push((tcode.to_string(), tid, tpath));
        let named = named_communities(tcode);
        let count = if district { 25 } else { named.len().max(2) };
        for ci in 0..count {
            let (ccode, cname) = match named.get(ci) {
                Some((c, n)) => (c.to_string(), n.to_string()),
                None => (
                    format!("{tcode}_c{:02}", ci + 1),
                    format!(
                        "{}第{}社区",
                        tname
                            .trim_end_matches("街道")
                            .trim_end_matches('镇')
                            .trim_end_matches("新区"),
                        ci + 1
                    ),
                ),
            };
            let org = if cname.ends_with('村') {
                format!("{cname}党总支")
            } else {
                format!("{cname}党支部")
            };
            let lvl = if cname.ends_with('村') {
                PartyOrgLevel::GeneralBranch
            } else {
                PartyOrgLevel::Branch
            };
            let cid = store
                .create_place(
                    &actor,
                    &root_scope,
                    Some(tid),
                    &place(&ccode, &cname, Some(org), Some(lvl)),
                )
                .await?;
            let cpath = store.get_place_unscoped(cid).await?.path;
            let grids = if district { 10 } else { 2 };
            for gi in 0..grids {
                let gcode = format!("{ccode}_g{:02}", gi + 1);
                let gname = format!(
                    "{cname}第{}网格",
                    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"][gi % 10]
                );
                let gid = store
                    .create_place(
                        &actor,
                        &root_scope,
                        Some(cid),
                        &place(&gcode, &gname, None, None),
                    )
                    .await?;
                let gpath = store.get_place_unscoped(gid).await?.path;
                built.grids.push((gcode, gid, gpath));
            }
            built.communities.push((ccode, cid, cpath, cname));
        }
        if district {
            println!(
                "  places: town {}/{} done ({:.1}s)",
                ti + 1,
                town_count,
                started.elapsed().as_secs_f32()
            );
        }
    }

    // Units: the named ones, then generated ones in district scale.
    let mut units: Vec<(ValidUnit, String)> = Vec::new();
    for (i, (name, kind, org, level, town)) in UNITS.iter().enumerate() {
        let Some((_, tid, tpath)) = built.towns.iter().find(|t| t.0 == *town) else {
            continue;
        };
        units.push((
            ValidUnit {
                name: name.to_string(),
                kind: kind.to_string(),
                credit_code: credit_code("12", i + 1),
                place_id: *tid,
                party_org_name: org.to_string(),
                party_org_level: PartyOrgLevel::parse(level).unwrap_or(PartyOrgLevel::Branch),
                contact_name: Some(person_name(&mut rng)),
                contact_phone: Some(format!("1990{:07}", 9_000_000 + i)),
            },
            tpath.clone(),
        ));
    }
    let unit_target = if district { 2000 } else { units.len() };
    let kinds = [
        "organ",
        "institution",
        "soe",
        "university",
        "new_economic",
        "hospital",
    ];
    let mut i = units.len();
    while units.len() < unit_target {
        let (_, tid, tpath) = &built.towns[i % built.towns.len()];
        let kind = kinds[rng.below(kinds.len())];
        let name = format!(
            "嘉定{}单位{:04}",
            match kind {
                "organ" => "机关",
                "institution" => "事业",
                "soe" => "国企",
                "university" => "院校",
                "hospital" => "医疗",
                _ => "企业",
            },
            i + 1
        );
        units.push((
            ValidUnit {
                party_org_name: format!("{name}党支部"),
                name,
                kind: kind.to_string(),
                credit_code: credit_code(
                    if kind == "soe" || kind == "new_economic" {
                        "91"
                    } else {
                        "12"
                    },
                    i + 1,
                ),
                place_id: *tid,
                party_org_level: PartyOrgLevel::Branch,
                contact_name: None,
                contact_phone: None,
            },
            tpath.clone(),
        ));
        i += 1;
    }
    let rows: Vec<BulkUnit> = units
        .iter()
        .map(|(u, p)| BulkUnit {
            unit: u,
            place_path: p,
        })
        .collect();
    store.bulk_insert_units(&actor, "demo.units", &rows).await?;
    let unit_ids: Vec<(i64, String)> = store.unit_options(&Scope::Everything).await?;
    let unit_id_of = |name: &str| unit_ids.iter().find(|u| u.1 == name).map(|u| UnitId(u.0));
    println!(
        "  units: {} ({:.1}s)",
        unit_ids.len(),
        started.elapsed().as_secs_f32()
    );

    // Members.
    let member_target = if district { 50_000 } else { 40 };
    let skills = [
        "medical",
        "legal",
        "education",
        "it",
        "forestry",
        "psychology",
        "finance",
        "repair",
        "lecture",
        "sports",
        "cycling",
        "elder_care",
    ];
    let mut members: Vec<(ValidMember, String)> = Vec::with_capacity(member_target);
    for n in 0..member_target {
        let (_, cid, cpath, _) = &built.communities[n % built.communities.len()];
        let unit = UnitId(unit_ids[rng.below(unit_ids.len())].0);
        let mut sk: Vec<String> = Vec::new();
        for _ in 0..rng.below(3) {
            let s = skills[rng.below(skills.len())].to_string();
            if !sk.contains(&s) {
                sk.push(s);
            }
        }
        members.push((
            ValidMember {
                name: person_name(&mut rng),
                mobile: mobile(n + 1),
                id_card: if n % 3 == 0 { Some(id_card(n)) } else { None },
                unit_id: unit,
                community_id: *cid,
                skills: sk,
                separated_residence: rng.below(5) == 0,
            },
            cpath.clone(),
        ));
        if district && (n + 1) % 10_000 == 0 {
            println!("  members: {} prepared", n + 1);
        }
    }
    let rows: Vec<BulkMember> = members
        .iter()
        .map(|(m, p)| BulkMember {
            member: m,
            community_path: p,
        })
        .collect();
    store
        .bulk_insert_members(&actor, "demo.members", &rows)
        .await?;
    println!(
        "  members: {} ({:.1}s)",
        members.len(),
        started.elapsed().as_secs_f32()
    );

    // Social organisations.
    let social = [
        ("嘉定区乐龄养老服务中心", "jdz"),
        ("菊园新区阳光助残服务社", "juyuan"),
        ("马陆镇邻里调解服务社", "malu"),
    ];
    for (k, (name, town)) in social.iter().enumerate() {
        if let Some((_, tid, _)) = built.towns.iter().find(|t| t.0 == *town) {
            let v = shanzhi_domain::org::ValidSocialOrg {
                name: name.to_string(),
                credit_code: credit_code("52", k + 1),
                place_id: *tid,
                contact_name: None,
                contact_phone: None,
            };
            store.save_social_org(&actor, &root_scope, None, &v).await?;
        }
    }

    // An open registration round, so members can register (报到) right away.
    store
        .open_round(
            &actor,
            &shanzhi_domain::registration::ValidRound {
                name: "2026年度".into(),
                year: 2026,
                starts_on: "2026-01-01".into(),
                ends_on: "2026-12-31".into(),
                carry_over: false,
            },
        )
        .await?;
    pairing_demo(store, &root_scope, &built, &unit_ids).await?;

    // Accounts.
    let hash = shanzhi_secure::password::hash(password)?;
    let mut with_account = std::collections::HashSet::new();
    for (username, role, scope) in &accounts {
        let mut b = NewBinding {
            role: *role,
            place_id: None,
            unit_id: None,
            member_id: None,
        };
        let mut member_id = None;
        match role {
            Role::UnitAdmin => b.unit_id = unit_id_of(scope),
            Role::Member => {
                let unit = unit_id_of(scope).map(|u| u.0);
                let f = shanzhi_store::orgs::MemberFilter {
                    unit_id: unit,
                    ..Default::default()
                };
                let idx = if *username == "member_wang" { 0 } else { 1 };
                let found = store
                    .list_members(
                        &Scope::Everything,
                        &f,
                        shanzhi_store::PageReq::new(Some(1), Some(2)),
                    )
                    .await?;
                member_id = found
                    .items
                    .get(idx.min(found.items.len().saturating_sub(1)))
                    .map(|m| MemberId(m.id));
                b.member_id = member_id;
            }
            _ => {
                let code = place_code_for(scope, &built);
                b.place_id = match code {
                    Some(c) => store.place_by_code(&c).await?.map(|p| PlaceId(p.id)),
                    None => Some(root),
                };
            }
        }
        with_account.extend(member_id.map(|m| m.0));
        let display: String = match member_id {
            Some(m) => store.get_member(&Scope::Everything, m).await?.name,
            None => person_name(&mut rng),
        };
        store
            .create_account(
                &actor,
                &NewAccount {
                    username: username.to_string(),
                    display_name: display,
                    mobile: None,
                    password_hash: hash.clone(),
                    member_id,
                    bindings: vec![b],
                    // Demo passwords are printed for trying the product out.
                    must_change_password: false,
                },
            )
            .await?;
    }
    let accepted = registrations_demo(store, &built, district, &with_account).await?;
    println!(
        "  registrations accepted: {accepted} ({:.1}s)",
        started.elapsed().as_secs_f32()
    );
    // After the registrations: the member waiting to activate her account has not registered.
    activation_demo(store, unit_id_of("区林业站")).await?;
    println!("演示数据已生成 ({:.1}s)", started.elapsed().as_secs_f32());
    Ok(accounts
        .iter()
        .map(|a| DemoAccount {
            username: a.0.into(),
            role: a.1.as_str().into(),
            scope: a.2.into(),
        })
        .collect())
}

/// 个人报到 demo: in every community some members living there have registered in the open round and been
/// accepted into the community's first grid, so the place tree, the home pages and 报到率 show real figures —
/// small scale: 3 of every 5 members; district scale: 1 of every 25 (every registration is an audited write).
/// Members with a demo account stay unregistered, so a visitor can try registering with them; nothing is left
/// waiting (待接收), so every community's queue starts empty. Returns how many were accepted.
async fn registrations_demo(
    store: &Store,
    built: &Built,
    district: bool,
    with_account: &std::collections::HashSet<i64>,
) -> anyhow::Result<usize> {
    use shanzhi_domain::registration::{Availability, Slot, ValidRegistration};
    use shanzhi_store::orgs::MemberFilter;
    let actor = Actor::system("demo");
    let mut accepted = 0;
    for (_, cid, cpath, _) in &built.communities {
        let Some(grid) = built.grids.iter().find(|g| g.2.starts_with(cpath.as_str())) else {
            continue;
        };
        let scope = Scope::Subtree(cpath.clone());
        let living = store
            .list_members(
                &scope,
                &MemberFilter {
                    place_id: Some(cid.0),
                    ..Default::default()
                },
                shanzhi_store::PageReq::new(Some(1), Some(100)),
            )
            .await?;
        for (n, m) in living.items.iter().enumerate() {
            let chosen = if district { n % 25 == 0 } else { n % 5 < 3 };
            if !chosen || with_account.contains(&m.id) {
                continue;
            }
            let v = ValidRegistration {
                community_id: *cid,
                skills: Vec::new(),
                intentions: Vec::new(),
                availability: Availability::empty().with(Slot::WeekendMorning),
            };
            let reg = store
                .submit_registration(&actor, &scope, MemberId(m.id), &v)
                .await?;
            store
                .accept_registration(&actor, &scope, reg, Some(grid.1))
                .await?;
            accepted += 1;
        }
    }
    Ok(accepted)
}

/// 组团式 demo: the open round "2026年度" (unless one is open already), 区林业站's accepted registration with
/// 樊家村 and its resources, the pairing 区林业站党支部 ↔ 樊家村党总支 with the joint project 《"林"聚樊家》, and
/// 嘉定镇街道's alliance "融耀合伙人". Runs only while the demo data is first created.
async fn pairing_demo(
    store: &Store,
    root_scope: &Scope,
    built: &Built,
    unit_ids: &[(i64, String)],
) -> anyhow::Result<()> {
    use shanzhi_domain::registration::{
        PairingStatus, PairingTargets, ValidActivity, ValidAlliance, ValidPairing, ValidProject,
        ValidResource, ValidRound, ValidUnitRegistration,
    };
    let actor = Actor::system("demo");
    let unit_of = |name: &str| unit_ids.iter().find(|u| u.1 == name).map(|u| UnitId(u.0));
    if store.current_round().await?.is_none() {
        let round = ValidRound {
            name: "2026年度".into(),
            year: 2026,
            starts_on: "2026-01-01".into(),
            ends_on: "2026-12-31".into(),
            carry_over: false,
        };
        store.open_round(&actor, &round).await?;
    }
    let fanjia = built.communities.iter().find(|c| c.0 == "fanjia");
    if let (Some(linye), Some((_, fanjia_id, fanjia_path, _))) = (unit_of("区林业站"), fanjia) {
        let fanjia_scope = Scope::Subtree(fanjia_path.clone());
        let linye_scope = Scope::Unit(linye);
        let reg = store
            .submit_unit_registration(
                &actor,
                &linye_scope,
                linye,
                &ValidUnitRegistration {
                    place_id: *fanjia_id,
                    contact_name: "林站联络员".into(),
                    contact_phone: None,
                    note: Some("林业科普、林地建设抚育技术指导".into()),
                },
            )
            .await?;
        store
            .accept_unit_registration(&actor, &fanjia_scope, reg)
            .await?;
        for (title, capacity, schedule) in [
            ("生物多样性科普讲解", 30, "每季度一次,周六上午"),
            ("林地建设抚育技术指导", 10, "春秋两季"),
        ] {
            let r = ValidResource {
                title: title.into(),
                description: None,
                capacity,
                schedule: Some(schedule.into()),
                unit_registration_id: Some(reg),
            };
            store
                .save_resource(&actor, &linye_scope, linye, None, &r)
                .await?;
        }
        let pairing = store
            .create_pairing(
                &actor,
                &fanjia_scope,
                &ValidPairing {
                    unit_id: linye,
                    community_id: *fanjia_id,
                    term_start: "2026-01-01".into(),
                    term_end: "2026-12-31".into(),
                    targets: PairingTargets {
                        activities_per_quarter: 1,
                        note: Some("重点开展林业科普和林地抚育".into()),
                    },
                },
            )
            .await?;
        store
            .set_pairing_status(
                &actor,
                &fanjia_scope,
                pairing,
                PairingStatus::Signed,
                Some("2026-01-15"),
            )
            .await?;
        store
            .set_pairing_status(&actor, &fanjia_scope, pairing, PairingStatus::Running, None)
            .await?;
        let project = store
            .create_project(
                &actor,
                &fanjia_scope,
                &ValidProject {
                    name: "《“林”聚樊家》".into(),
                    category: "environment".into(),
                    pairing_id: Some(pairing),
                    unit_id: linye,
                    community_id: *fanjia_id,
                    goals: Some("开展生物多样性科普宣传,参与林地建设抚育,共建美丽樊家".into()),
                    period_start: "2026-01-01".into(),
                    period_end: "2026-12-31".into(),
                },
            )
            .await?;
        let mut first = None;
        for (title, on) in [
            ("生物多样性科普宣传", "2026-03-14"),
            ("林地建设抚育", "2026-04-18"),
        ] {
            let a = store
                .add_project_activity(
                    &actor,
                    &fanjia_scope,
                    project,
                    &ValidActivity {
                        title: title.into(),
                        planned_on: on.into(),
                    },
                )
                .await?;
            first.get_or_insert(a);
        }
        if let Some(a) = first {
            store
                .mark_activity_done(&actor, &fanjia_scope, a, "2026-03-14")
                .await?;
        }
    }
    if let Some((_, jdz, _)) = built.towns.iter().find(|t| t.0 == "jdz") {
        let alliance = store
            .create_alliance(
                &actor,
                root_scope,
                &ValidAlliance {
                    name: "融耀合伙人".into(),
                    town_id: *jdz,
                    description: Some("嘉定镇街道区域化党建联盟".into()),
                },
            )
            .await?;
        for name in ["区卫健委", "城发集团", "上海大学悉尼工商学院"] {
            if let Some(u) = unit_of(name) {
                store
                    .add_alliance_unit(&actor, root_scope, alliance, u)
                    .await?;
            }
        }
    }
    Ok(())
}

fn place_code_for(scope: &str, built: &Built) -> Option<String> {
    let by_name = |name: &str| -> Option<String> {
        TOWNS
            .iter()
            .find(|t| t.1 == name)
            .map(|t| t.0.to_string())
            .or_else(|| {
                built
                    .communities
                    .iter()
                    .find(|c| c.3 == name)
                    .map(|c| c.0.clone())
            })
    };
    if scope == "嘉定区" {
        return None;
    }
    if scope == "樊家村第一网格" {
        return Some("fanjia_g01".into());
    }
    by_name(scope)
}

fn demo_account_specs() -> Vec<(&'static str, Role, &'static str)> {
    vec![
        ("qu_admin", Role::DistrictAdmin, "嘉定区"),
        ("malu_admin", Role::TownAdmin, "马陆镇"),
        ("juyuan_admin", Role::TownAdmin, "菊园新区"),
        ("fanjia_admin", Role::CommunityAdmin, "樊家村"),
        ("jiaxiao_admin", Role::CommunityAdmin, "嘉筱社区"),
        ("fanjia_grid1", Role::GridLeader, "樊家村第一网格"),
        ("linye_admin", Role::UnitAdmin, "区林业站"),
        ("weijian_admin", Role::UnitAdmin, "区卫健委"),
        ("member_wang", Role::Member, "区林业站"),
        ("member_li", Role::Member, "区卫健委"),
        ("resident_zhao", Role::Resident, "嘉筱社区"),
        ("security", Role::SecurityAdmin, "嘉定区"),
        ("auditor", Role::Auditor, "嘉定区"),
    ]
}

/// The member of the activation walk-through (issue 8.1): imported by 区林业站, living in 樊家村, with an ID number
/// on file and no account yet. She activates at 激活账号 with 陈晓梅 / 19890000001 / 080027 (the last six of her ID
/// number).
async fn activation_demo(store: &Store, linye: Option<UnitId>) -> anyhow::Result<()> {
    let (Some(unit_id), Some(fanjia)) = (linye, store.place_by_code("fanjia").await?) else {
        return Ok(());
    };
    let first = "31011419880808002";
    let check = id_card_check_char(first).unwrap_or('0');
    store
        .create_member(
            &Actor::system("demo"),
            &fanjia,
            &ValidMember {
                name: "陈晓梅".into(),
                mobile: "19890000001".into(),
                id_card: Some(format!("{first}{check}")),
                unit_id,
                community_id: PlaceId(fanjia.id),
                skills: vec![],
                separated_residence: false,
            },
            shanzhi_domain::roster::UnitLink::Confirmed,
        )
        .await?;
    Ok(())
}
