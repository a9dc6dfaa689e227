//! Bulk import and ledger export: all-or-nothing, "valid rows only", idempotent re-import, hostile files, scope,
//! the page upload (multipart + CSRF), the command line's exit codes, and masked ledgers with column widths.

use std::io::Read;

use shanzhi_domain::role::Scope;
use shanzhi_domain::validate::credit_code_check_char;
use shanzhi_store::PageReq;
use shanzhi_store::orgs::MemberFilter;

use crate::both;
use crate::support::fixtures::World;
use crate::support::{Db, PASSWORD, TestApp, TestDb, two_towns};

const HEADER: &str = "姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离\n";

fn credit(i: usize) -> String {
    let first: String = format!("91310114{i:09}").chars().take(17).collect();
    format!("{first}{}", credit_code_check_char(&first).unwrap())
}

async fn count_mobile(app: &TestApp, mobile: &str) -> i64 {
    app.store
        .list_members(
            &Scope::Everything,
            &MemberFilter {
                mobile: Some(mobile.into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap()
        .total
}

/// Uploads a raw file through the API; returns (status, body).
async fn api_upload(
    app: &TestApp,
    token: &str,
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
    valid_only: bool,
) -> (u16, serde_json::Value) {
    let res = app
        .api()
        .post(app.url(&format!(
            "/api/v1/imports/{kind}?filename={file_name}&valid_only={valid_only}"
        )))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// Polls an import until it has ended.
async fn wait(app: &TestApp, token: &str, id: i64) -> serde_json::Value {
    for _ in 0..200 {
        let (status, body) = app.get_json(token, &format!("/api/v1/imports/{id}")).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "done" || body["status"] == "failed" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

async fn import_and_wait(
    app: &TestApp,
    token: &str,
    kind: &str,
    file_name: &str,
    bytes: Vec<u8>,
    valid_only: bool,
) -> serde_json::Value {
    let (status, body) = api_upload(app, token, kind, file_name, bytes, valid_only).await;
    assert_eq!(status, 202, "{body}");
    wait(app, token, body["id"].as_i64().unwrap()).await
}

fn members_csv(rows: &[&str]) -> Vec<u8> {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

async fn all_or_nothing_valid_only_and_idempotent(db: Db) {
    let (app, _w) = two_towns(db).await;
    let token = app.token("town_admin_a").await;
    let file = members_csv(&[
        "导入一,13700000001,,单位甲一,甲一村,林业园艺、为老服务,否",
        "导入二,1370000000,,单位甲一,甲一村,,",
        "导入三,13700000003,,单位乙一,甲镇/甲二社区,,是",
    ]);
    // One bad row: nothing is written and the report names it with its code.
    let r = import_and_wait(&app, &token, "members", "m.csv", file.clone(), false).await;
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["report"]["code"], "import_has_errors");
    assert_eq!(r["report"]["error_rows"], 1);
    let bad = &r["report"]["rows"][0];
    assert_eq!(bad["line"], 3);
    assert_eq!(bad["status"], "error");
    assert_eq!(bad["code"], "invalid_mobile");
    assert!(bad["reason"].as_str().unwrap().contains("手机号"));
    assert_eq!(count_mobile(&app, "13700000001").await, 0);
    // "Valid rows only" writes the good ones, with their skills.
    let r = import_and_wait(&app, &token, "members", "m.csv", file.clone(), true).await;
    assert_eq!(r["status"], "done", "{r}");
    assert_eq!(r["report"]["inserted"], 2);
    assert_eq!(count_mobile(&app, "13700000001").await, 1);
    assert_eq!(count_mobile(&app, "13700000003").await, 1);
    let m = app
        .store
        .list_members(
            &Scope::Everything,
            &MemberFilter {
                mobile: Some("13700000001".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(m.community_name, "甲一村");
    assert_eq!(m.skills.len(), 2);
    // Importing the same file again changes nothing.
    let r = import_and_wait(&app, &token, "members", "m.csv", file, true).await;
    assert_eq!(r["report"]["inserted"], 0, "{r}");
    assert_eq!(r["report"]["skipped"], 2);
    assert_eq!(r["report"]["rows"][0]["reason"], "已登记,跳过");
    assert_eq!(count_mobile(&app, "13700000001").await, 1);

    // Units: duplicates within the file, unknown place, then an idempotent re-import.
    let units = format!(
        "单位名称,单位类别,统一社会信用代码,所在街镇或村居,党组织名称,党组织层级,联系人,联系电话\n\
         导入单位甲,事业单位,{a},甲镇,导入单位甲党支部,党支部,王一,13700000099\n\
         导入单位乙,国有企业,{a},甲一村,导入单位乙党委,党委,,\n\
         导入单位丙,国有企业,{c},乙一村,导入单位丙党委,党委,,\n",
        a = credit(1),
        c = credit(3)
    );
    let r = import_and_wait(
        &app,
        &token,
        "units",
        "u.csv",
        units.clone().into_bytes(),
        false,
    )
    .await;
    assert_eq!(r["status"], "failed");
    let codes: Vec<&str> = r["report"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["duplicate_in_file", "unknown_place"], "{r}");
    let r = import_and_wait(
        &app,
        &token,
        "units",
        "u.csv",
        units.clone().into_bytes(),
        true,
    )
    .await;
    assert_eq!(r["report"]["inserted"], 1, "{r}");
    let r = import_and_wait(&app, &token, "units", "u.csv", units.into_bytes(), true).await;
    assert_eq!(r["report"]["inserted"], 0);
    assert_eq!(r["report"]["skipped"], 1);
    // The imports are audited.
    let audit = app
        .store
        .list_audit(
            &shanzhi_store::AuditFilter {
                action: Some("import.members".into()),
                ..Default::default()
            },
            PageReq::new(Some(1), Some(50)),
        )
        .await
        .unwrap();
    assert!(audit.total >= 1);
}
both!(all_or_nothing_valid_only_and_idempotent);

fn formula_xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADER.trim().split(',').enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    ws.write_string(1, 0, "公式").unwrap();
    ws.write_formula(1, 1, rust_xlsxwriter::Formula::new("=1+1"))
        .unwrap();
    wb.save_to_buffer().unwrap()
}

async fn hostile_files_write_nothing(db: Db) {
    let (app, _w) = two_towns(db).await;
    let token = app.token("district_admin").await;
    let gbk: Vec<u8> = vec![
        0xD0, 0xD5, 0xC3, 0xFB, b',', 0xB5, 0xE7, 0xBB, 0xB0, b'\r', b'\n', 0xD5, 0xC5, 0xC8, 0xFD,
        b',', b'1', b'3', b'8', b'\r', b'\n',
    ];
    let mut zip_garbage = b"PK\x03\x04".to_vec();
    zip_garbage.extend(std::iter::repeat_n(0x41u8, 500));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage.xlsx",
            vec![0x00, 0xFF, 0x13, 0x37, 0x00, 0x01],
            "malformed_file",
        ),
        ("broken.xlsx", zip_garbage, "malformed_file"),
        ("formula.xlsx", formula_xlsx(), "formula_not_allowed"),
        ("gbk.csv", gbk, "csv_not_utf8"),
        (
            "old.xls",
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
            "unsupported_file_format",
        ),
        (
            "cols.csv",
            "姓名,手机号\n张三,13800000000\n".as_bytes().to_vec(),
            "missing_columns",
        ),
    ];
    for (name, bytes, code) in cases {
        let (status, body) = api_upload(&app, &token, "members", name, bytes, true).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, body) = app.get_json(&token, "/api/v1/members?per_page=1").await;
    let before = body["total"].as_i64().unwrap();
    // A formula message names the row and column.
    let (_, body) = api_upload(&app, &token, "members", "f.xlsx", formula_xlsx(), true).await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("第2行"),
        "{body}"
    );
    let (_, body) = app.get_json(&token, "/api/v1/members?per_page=1").await;
    assert_eq!(body["total"].as_i64().unwrap(), before);
    // No job was even recorded.
    let jobs = app
        .store
        .list_import_jobs(&Scope::Everything, None, 10)
        .await
        .unwrap();
    assert!(jobs.is_empty());
}
both!(hostile_files_write_nothing);

async fn scope_of_imports(db: Db) {
    let (app, _w) = two_towns(db).await;
    let fanjia = app.token("community_admin_a1").await;
    let file = members_csv(&[
        "本村一,13700000011,,单位甲一,甲一村,,",
        "外村二,13700000012,,单位甲一,乙一村,,",
    ]);
    let r = import_and_wait(&app, &fanjia, "members", "m.csv", file, true).await;
    assert_eq!(r["report"]["inserted"], 1, "{r}");
    // The resident of the village is written but waits for their unit; the other village's is refused.
    assert_eq!(r["report"]["rows"][0]["line"], 2);
    assert_eq!(r["report"]["rows"][0]["status"], "pending");
    assert_eq!(r["report"]["rows"][1]["line"], 3);
    assert_eq!(r["report"]["rows"][1]["code"], "residence_out_of_scope");
    assert_eq!(count_mobile(&app, "13700000012").await, 0);
    let id = r["id"].as_i64().unwrap();
    // Another community's admin cannot see the import; the town above can.
    let jiaxiao = app.token("community_admin_b1").await;
    assert_eq!(
        app.get_json(&jiaxiao, &format!("/api/v1/imports/{id}"))
            .await
            .0,
        404
    );
    let malu = app.token("town_admin_a").await;
    assert_eq!(
        app.get_json(&malu, &format!("/api/v1/imports/{id}"))
            .await
            .0,
        200
    );
    let juyuan = app.token("town_admin_b").await;
    assert_eq!(
        app.get_json(&juyuan, &format!("/api/v1/imports/{id}"))
            .await
            .0,
        404
    );
    // A community admin does not import units; members and residents import nothing.
    let (status, _) = api_upload(&app, &fanjia, "units", "u.csv", b"x".to_vec(), false).await;
    assert_eq!(status, 403);
    let member = app.token("member_a1").await;
    let (status, _) = api_upload(&app, &member, "members", "m.csv", b"x".to_vec(), false).await;
    assert_eq!(status, 403);
    // A unit admin imports only into their own unit.
    let linye = app.token("unit_admin_a1").await;
    let file = members_csv(&[
        "林业甲,13700000021,,单位甲一,乙一村,,",
        "卫健乙,13700000022,,单位乙一,乙一村,,",
    ]);
    let r = import_and_wait(&app, &linye, "members", "m.csv", file, true).await;
    assert_eq!(r["report"]["inserted"], 1, "{r}");
    assert_eq!(
        r["report"]["pending"], 0,
        "the unit's own admin needs no confirmation"
    );
    assert_eq!(r["report"]["rows"][0]["code"], "unit_out_of_scope");
}
both!(scope_of_imports);

fn multipart(boundary: &str, kind: &str, valid_only: bool, name: &str, file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    let mut part = |head: String, body: &[u8]| {
        b.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"kind\"".into(),
        kind.as_bytes(),
    );
    if valid_only {
        part(
            "Content-Disposition: form-data; name=\"valid_only\"".into(),
            b"on",
        );
    }
    part(
        format!(
            "Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream"
        ),
        file,
    );
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

async fn page_upload_with_progress_page(db: Db) {
    let (app, _w) = two_towns(db).await;
    let browser = app.browser();
    app.web_login(&browser, "community_admin_a1", PASSWORD)
        .await;
    let page = browser.get(app.url("/imports")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("仅导入正确的行"));
    assert!(html.contains("/imports/templates/members.xlsx"));
    let start = html.find("action=\"/imports?_csrf=").unwrap() + "action=\"/imports?_csrf=".len();
    let csrf = html[start..].split('"').next().unwrap().to_string();
    let boundary = "----shanzhitest";
    let ctype = format!("multipart/form-data; boundary={boundary}");
    let file = members_csv(&[
        "页面一,13700000031,,单位甲一,甲一村,,",
        "页面二,137,,单位甲一,甲一村,,",
    ]);
    // Without the CSRF token the upload is refused.
    let res = browser
        .post(app.url("/imports"))
        .header("content-type", &ctype)
        .body(multipart(boundary, "members", false, "m.csv", &file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = browser
        .post(app.url(&format!("/imports?_csrf={csrf}")))
        .header("content-type", &ctype)
        .body(multipart(boundary, "members", false, "m.csv", &file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    let mut html = String::new();
    for _ in 0..200 {
        html = browser
            .get(app.url(&loc))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if !html.contains("http-equiv=\"refresh\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "finished pages stop refreshing"
    );
    assert!(html.contains("未导入任何数据"), "{html}");
    assert!(html.contains("第3行"));
    // The page gives the reason in Chinese, never the code (the CSV report and the API keep the code).
    assert!(html.contains(shanzhi_domain::Code::InvalidMobile.message()));
    assert!(!html.contains("invalid_mobile"));
    assert_eq!(count_mobile(&app, "13700000031").await, 0);
    // The full list downloads as CSV; another community's admin gets 404.
    let csv = browser
        .get(app.url(&format!("{loc}/report.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let other = app.browser();
    app.web_login(&other, "community_admin_b1", PASSWORD).await;
    assert_eq!(other.get(app.url(&loc)).send().await.unwrap().status(), 404);
    // A hostile file shows the reason on the form.
    let res = browser
        .post(app.url(&format!("/imports?_csrf={csrf}")))
        .header("content-type", &ctype)
        .body(multipart(
            boundary,
            "members",
            true,
            "x.xlsx",
            &formula_xlsx(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("含公式"));
    // Templates download with Chinese headers.
    let t = browser
        .get(app.url("/imports/templates/members.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    assert!(
        t.text()
            .await
            .unwrap()
            .contains("姓名,手机号,身份证号,所在单位,居住社区,专长,户居分离")
    );
}
both!(page_upload_with_progress_page);

fn run_cli(db: &TestDb, args: &[&str]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shanzhi"));
    cmd.arg("--data-dir").arg(db.dir.path());
    if let Some(u) = &db.url {
        cmd.arg("--database-url").arg(u);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn command_line_exit_codes(db: Db) {
    let tdb = TestDb::new(db).await;
    let store = tdb.store().await;
    World::two_towns(&store).await;
    store.close().await;
    let dir = tdb.dir.path().to_path_buf();
    let file = dir.join("m.csv");
    std::fs::write(
        &file,
        members_csv(&[
            "命令一,13700000041,,单位甲一,甲一村,,",
            "命令二,13700000042,110105194912310021,单位甲一,甲一村,,",
        ]),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let (code, out) = run_cli(&tdb, &["import", "members", f]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("第3行") && out.contains("invalid_id_card"),
        "{out}"
    );
    let (code, out) = run_cli(&tdb, &["import", "members", f, "--valid-only"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已导入 1 行"), "{out}");
    // Re-import: the good row is skipped, nothing new, still the bad row → nothing valid.
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        members_csv(&["命令一,13700000041,,单位甲一,甲一村,,"]),
    )
    .unwrap();
    let (code, out) = run_cli(&tdb, &["import", "members", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已登记,跳过"), "{out}");
    // Templates by extension; a hostile file fails with its reason.
    for t in ["t.xlsx", "t.csv"] {
        let path = dir.join(t);
        let (code, out) = run_cli(
            &tdb,
            &["import", "units", "--template", path.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{out}");
        let bytes = std::fs::read(&path).unwrap();
        let table = shanzhi_sheets::read_table(t, &bytes, &Default::default()).unwrap();
        assert_eq!(table.headers[2], "统一社会信用代码");
    }
    // An unchanged template imports nothing: its example row is marked and skipped.
    for t in ["m.xlsx", "m.csv"] {
        let path = dir.join(t);
        let (code, out) = run_cli(
            &tdb,
            &["import", "members", "--template", path.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{out}");
        let (_, out) = run_cli(&tdb, &["import", "members", path.to_str().unwrap()]);
        let example = tdb
            .store()
            .await
            .list_members(
                &Scope::Everything,
                &MemberFilter {
                    q: Some("张三".into()),
                    ..Default::default()
                },
                PageReq::default(),
            )
            .await
            .unwrap()
            .total;
        assert_eq!(example, 0, "the template's example became a member: {out}");
    }
    let bad = dir.join("bad.xlsx");
    std::fs::write(&bad, b"this is not a workbook").unwrap();
    let (code, out) = run_cli(&tdb, &["import", "members", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("未导入任何数据"), "{out}");
    let store = tdb.store().await;
    let n = store
        .list_members(
            &Scope::Everything,
            &MemberFilter {
                q: Some("命令".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap()
        .total;
    assert_eq!(n, 1);
}
both!(command_line_exit_codes);

fn sheet_entry(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut f = zip.by_name(name).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

async fn ledgers_are_masked_and_sized(db: Db) {
    let (app, _w) = two_towns(db).await;
    // A town admin sees masked numbers.
    let token = app.token("town_admin_a").await;
    let res = app
        .api()
        .get(app.url("/api/v1/exports/members.xlsx"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let table = shanzhi_sheets::read_table("l.xlsx", &bytes, &Default::default()).unwrap();
    let mobile = table.column("手机号").unwrap();
    assert!(!table.rows.is_empty());
    for r in &table.rows {
        assert!(r.get(mobile).contains("****"), "masked: {}", r.get(mobile));
    }
    let status = table.column("本轮报到状态").unwrap();
    assert!(table.rows.iter().all(|r| !r.get(status).is_empty()));
    let xml = sheet_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains("<cols>") && xml.contains("customWidth=\"1\""),
        "{xml}"
    );
    // Only places in scope: a town admin asking for another town's place gets 404.
    let jiaxiao = app.store.place_by_code("b1").await.unwrap().unwrap();
    let res = app
        .api()
        .get(app.url(&format!(
            "/api/v1/exports/members.xlsx?place_id={}",
            jiaxiao.id
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Units ledger for the town.
    let res = app
        .api()
        .get(app.url("/api/v1/exports/units.xlsx"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let table = shanzhi_sheets::read_table("u.xlsx", &bytes, &Default::default()).unwrap();
    assert!(table.rows.iter().any(|r| r.get(0) == "单位甲一"));
    // A community admin may see full numbers: the export shows them and is audited.
    let browser = app.browser();
    app.web_login(&browser, "community_admin_a1", PASSWORD)
        .await;
    let res = browser
        .get(app.url("/exports/members.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let table = shanzhi_sheets::read_table("l.xlsx", &bytes, &Default::default()).unwrap();
    let mobile = table.column("手机号").unwrap();
    assert!(
        table
            .rows
            .iter()
            .all(|r| r.get(mobile).len() == 11 && !r.get(mobile).contains('*'))
    );
    let community = table.column("居住社区").unwrap();
    assert!(table.rows.iter().all(|r| r.get(community) == "甲一村"));
    let audit = app
        .store
        .list_audit(
            &shanzhi_store::AuditFilter {
                action: Some("export.members.reveal".into()),
                ..Default::default()
            },
            PageReq::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    // Members and residents do not export.
    let member = app.token("member_a1").await;
    assert_eq!(
        app.get_json(&member, "/api/v1/exports/members.xlsx")
            .await
            .0,
        403
    );
}
both!(ledgers_are_masked_and_sized);
