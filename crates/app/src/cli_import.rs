//! `shanzhi import members|units FILE [--valid-only]` and `--template FILE`: the import for operators. The
//! command line acts as the district operator (scope: everything, audited as `operator`) through the same
//! import use case as the pages and API. It prints every bad row with its reason and a
//! summary, and exits non-zero when nothing was imported because of errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use shanzhi_cases::{Caller, Cases};
use shanzhi_imports::{Kind, Options, RowStatus};
use shanzhi_store::Store;

/// Writes the template for `kind` (format by the file's extension).
pub fn write_template(kind: Kind, path: &Path) -> anyhow::Result<ExitCode> {
    let name = path.to_string_lossy();
    let Some(format) = shanzhi_imports::format_for(&name) else {
        eprintln!("错误: 模板文件名须以 .xlsx 或 .csv 结尾");
        return Ok(ExitCode::from(2));
    };
    let bytes = shanzhi_imports::template(kind, format)?;
    std::fs::write(path, bytes)?;
    println!("已写入{}导入模板: {}", kind.label(), path.display());
    Ok(ExitCode::SUCCESS)
}

/// Imports a file and prints the report.
pub async fn run(
    store: &Store,
    kind: Kind,
    file: &PathBuf,
    valid_only: bool,
) -> anyhow::Result<ExitCode> {
    // Read as a stream by the import, never loaded whole.
    std::fs::metadata(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let caller = Caller::operator("operator");
    let started = std::time::Instant::now();
    let result = Cases::new(store.clone())
        .imports()
        .import_file(
            &caller,
            kind,
            &name,
            &shanzhi_imports::Source::File(file.clone()),
            Options { valid_only },
        )
        .await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误 [{}]: {}", e.code(), e.message());
            eprintln!("未导入任何数据。");
            return Ok(ExitCode::FAILURE);
        }
    };
    for r in &report.rows {
        let code = r.code.as_deref().unwrap_or("");
        match r.status {
            RowStatus::Error => println!("第{}行 {} [{code}] {}", r.line, r.name, r.reason),
            RowStatus::Skipped => println!("第{}行 {} 已登记,跳过", r.line, r.name),
            RowStatus::Pending => println!("第{}行 {} 待单位确认", r.line, r.name),
            RowStatus::Ok => {}
        }
    }
    println!(
        "{}(用时 {:.1} 秒)",
        report.summary,
        started.elapsed().as_secs_f32()
    );
    if report.refused() {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
