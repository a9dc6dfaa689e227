//! Writes a member import sheet with N valid rows for the demo data (`shanzhi demo`, small scale):
//! `cargo run --release -p shanzhi-imports --example gen_members -- OUT.xlsx [ROWS] [START]` (.csv also works).
//! Mobile numbers use the 138 0xxx block, so they never collide with the demo's 1990 block. Row numbers start at
//! START (default 0): files for START = 0, 30000, 60000 … hold different members.

use shanzhi_domain::validate::id_card_check_char;
use shanzhi_sheets::{Column, Format};

const COMMUNITIES: [&str; 8] = [
    "樊家村",
    "大裕村",
    "陈村村",
    "嘉筱社区",
    "百合社区",
    "西门社区",
    "州桥社区",
    "清河路社区",
];
const UNITS: [&str; 6] = [
    "区林业站",
    "区卫健委",
    "城发集团",
    "区市场监管局",
    "区中心医院",
    "菊园科技园企业联合",
];
const SKILLS: [&str; 5] = ["医疗健康", "法律服务", "信息技术、教育辅导", "", "为老服务"];
const SURNAMES: [char; 10] = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴'];
const GIVEN: [char; 10] = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇'];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: gen_members OUT.xlsx [ROWS]")?;
    let rows: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50_000);
    let start: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(0);
    let headers = shanzhi_imports::MEMBER_HEADERS;
    let data: Vec<Vec<String>> = (start..start + rows)
        .map(|i| {
            let name: String = [
                SURNAMES[i % 10],
                GIVEN[(i / 10) % 10],
                GIVEN[(i / 100) % 10],
            ]
            .iter()
            .collect();
            let id_card = if i % 3 == 0 {
                let first = format!(
                    "310114{:04}{:02}{:02}{:03}",
                    1950 + (i / 1000) % 50,
                    1 + i % 12,
                    1 + i % 28,
                    i % 1000
                );
                let check = id_card_check_char(&first).unwrap_or('0');
                // Unique for up to 1,050,000 rows: i % 1000 and (i / 1000) % 50 give i mod 50,000, the month and
                // day i mod 84.
                format!("{first}{check}")
            } else {
                String::new()
            };
            vec![
                name,
                format!("1380{:07}", i),
                id_card,
                UNITS[i % UNITS.len()].to_string(),
                COMMUNITIES[i % COMMUNITIES.len()].to_string(),
                SKILLS[i % SKILLS.len()].to_string(),
                if i % 5 == 0 { "是" } else { "否" }.to_string(),
            ]
        })
        .collect();
    let bytes = match shanzhi_imports::format_for(&out) {
        Some(Format::Csv) => shanzhi_sheets::write_csv(&headers, &data)?,
        _ => {
            let columns: Vec<Column> = headers.iter().map(|h| Column::new(*h)).collect();
            shanzhi_sheets::write_xlsx("导入模板", &columns, &data)?
        }
    };
    std::fs::write(&out, bytes)?;
    println!("wrote {rows} member rows to {out}");
    Ok(())
}
