//! Ledgers (台账): members of a place or unit and units with their registrations in the current round, as .xlsx
//! with column widths set and every cell neutralised. Personal numbers are masked unless the caller passes
//! `reveal` (a role with the personal-reveal permission), which the store audits as a full-value view.

use shanzhi_domain::Timestamp;
use shanzhi_domain::place::PartyOrgLevel;
use shanzhi_domain::registration::{RegistrationStatus, UnitRegistrationStatus};
use shanzhi_domain::role::Scope;
use shanzhi_sheets::{Column, write_xlsx};
use shanzhi_store::imports::LedgerFilter;
use shanzhi_store::{Actor, Store};

use crate::ImportError;

fn col(header: &str, min_width: usize) -> Column {
    Column {
        header: header.to_string(),
        min_width,
    }
}

fn date(at: Option<i64>) -> String {
    at.map(|t| Timestamp(t).shanghai()).unwrap_or_default()
}

/// File name of a ledger download.
pub fn file_name(kind: &str) -> String {
    let day = Timestamp::now().shanghai_date();
    match kind {
        "units" => format!("驻区单位报到台账-{day}.xlsx"),
        _ => format!("在职党员报到台账-{day}.xlsx"),
    }
}

/// The member ledger as .xlsx.
pub async fn members_xlsx(
    store: &Store,
    scope: &Scope,
    f: &LedgerFilter,
    reveal: Option<&Actor>,
) -> Result<Vec<u8>, ImportError> {
    let rows = store.member_ledger(scope, f, reveal).await?;
    let columns = [
        col("姓名", 8),
        col("手机号", 13),
        col("身份证号", 20),
        col("所在单位", 12),
        col("党组织", 12),
        col("居住社区", 10),
        col("网格", 10),
        col("户居分离", 8),
        col("本轮报到状态", 12),
        col("报到社区", 10),
        col("报到网格", 10),
        col("回执编号", 14),
        col("报到时间", 16),
    ];
    let data: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let status = r
                .reg_status
                .as_deref()
                .and_then(RegistrationStatus::parse)
                .map(RegistrationStatus::label)
                .unwrap_or("未报到");
            vec![
                r.name,
                r.mobile,
                r.id_card.unwrap_or_default(),
                r.unit_name,
                r.party_org_name,
                r.community_name,
                r.grid_name.unwrap_or_default(),
                if r.separated_residence { "是" } else { "否" }.to_string(),
                status.to_string(),
                r.reg_community.unwrap_or_default(),
                r.reg_grid.unwrap_or_default(),
                r.receipt_no.unwrap_or_default(),
                date(r.submitted_at),
            ]
        })
        .collect();
    Ok(write_xlsx("在职党员报到台账", &columns, &data)?)
}

/// The unit ledger as .xlsx.
pub async fn units_xlsx(
    store: &Store,
    scope: &Scope,
    f: &LedgerFilter,
    reveal: Option<&Actor>,
) -> Result<Vec<u8>, ImportError> {
    let rows = store.unit_ledger(scope, f, reveal).await?;
    let columns = [
        col("单位名称", 14),
        col("单位类别", 8),
        col("统一社会信用代码", 20),
        col("所在地", 10),
        col("党组织名称", 14),
        col("党组织层级", 8),
        col("联系人", 8),
        col("联系电话", 13),
        col("党员人数", 8),
        col("报到地点", 10),
        col("本轮报到状态", 12),
        col("报到时间", 16),
    ];
    let data: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let status = match r.reg_status.as_deref() {
                Some(s) => UnitRegistrationStatus::parse(s)
                    .map(UnitRegistrationStatus::label)
                    .unwrap_or(""),
                None => "未报到",
            };
            vec![
                r.name,
                r.kind_name.unwrap_or_default(),
                r.credit_code,
                r.place_name,
                r.party_org_name,
                PartyOrgLevel::parse(&r.party_org_level)
                    .map(PartyOrgLevel::label)
                    .unwrap_or("")
                    .to_string(),
                r.contact_name.unwrap_or_default(),
                r.contact_phone.unwrap_or_default(),
                r.member_count.to_string(),
                r.reg_place.unwrap_or_default(),
                status.to_string(),
                date(r.submitted_at),
            ]
        })
        .collect();
    Ok(write_xlsx("驻区单位报到台账", &columns, &data)?)
}

/// File name of a 未报到名单 download.
pub fn unregistered_file_name(of_name: &str) -> String {
    let day = Timestamp::now().shanghai_date();
    format!("未报到名单-{of_name}-{day}.xlsx")
}

/// The 未报到名单 (who has not registered in the open round) as .xlsx; mobiles as the list carries them (masked
/// unless the store revealed and audited them).
pub fn unregistered_xlsx(
    list: &shanzhi_store::notifications::UnregisteredList,
) -> Result<Vec<u8>, ImportError> {
    let columns = [
        col("姓名", 8),
        col("手机号", 13),
        col("所在单位", 14),
        col("居住社区", 10),
        col("网格", 10),
        col("最近提醒", 16),
    ];
    let data: Vec<Vec<String>> = list
        .members
        .items
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.mobile.clone(),
                m.unit_name.clone(),
                m.community_name.clone(),
                m.grid_name.clone().unwrap_or_default(),
                date(m.last_reminded_at),
            ]
        })
        .collect();
    Ok(write_xlsx("未报到名单", &columns, &data)?)
}
