//! The upload check streams: its heap peak does not grow with the number of rows, and it never holds the rows
//! the way a whole [`shanzhi_sheets::Table`] does. One test in this binary, so no other test allocates meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use peak_alloc::PeakAlloc;
use shanzhi_imports::{Kind, MEMBER_HEADERS, check};
use shanzhi_sheets::{Column, Input, Limits, read_table};

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

fn rows(n: usize) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            vec![
                format!("党员{i}"),
                format!("1371{i:07}"),
                String::new(),
                "区林业站".into(),
                "樊家村".into(),
                "医疗健康".into(),
                "否".into(),
            ]
        })
        .collect()
}

/// Extra heap at the peak of `f` over what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let out = f();
    (out, HEAP.peak_usage().saturating_sub(before))
}

const MIB: usize = 1024 * 1024;

#[test]
fn the_upload_check_keeps_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv_peaks = Vec::new();
    for n in [3_000, 30_000] {
        let data = rows(n);
        let csv = dir.path().join(format!("m{n}.csv"));
        std::fs::write(
            &csv,
            shanzhi_sheets::write_csv(&MEMBER_HEADERS, &data).unwrap(),
        )
        .unwrap();
        let columns: Vec<Column> = MEMBER_HEADERS.iter().map(|h| Column::new(*h)).collect();
        let xlsx_bytes = shanzhi_sheets::write_xlsx("m", &columns, &data).unwrap();
        let xlsx = dir.path().join(format!("m{n}.xlsx"));
        std::fs::write(&xlsx, &xlsx_bytes).unwrap();
        drop(data);

        let (counted, csv_peak) = peak_of(|| check(Kind::Members, "m.csv", Input::File(&csv)));
        assert_eq!(counted.unwrap(), n);
        let (counted, xlsx_peak) = peak_of(|| check(Kind::Members, "m.xlsx", Input::File(&xlsx)));
        assert_eq!(counted.unwrap(), n);
        let (table, table_peak) = peak_of(|| read_table("m.xlsx", &xlsx_bytes, &Limits::default()));
        assert_eq!(table.unwrap().rows.len(), n);
        eprintln!(
            "{n} rows: check csv {:.2} MiB, check xlsx {:.2} MiB, whole table from xlsx {:.2} MiB",
            csv_peak as f64 / MIB as f64,
            xlsx_peak as f64 / MIB as f64,
            table_peak as f64 / MIB as f64
        );
        if n == 30_000 {
            // calamine keeps the shared strings of an xlsx; the rows are never all in memory.
            assert!(xlsx_peak * 2 < table_peak, "{xlsx_peak} vs {table_peak}");
        }
        csv_peaks.push(csv_peak);
    }
    // A CSV ten times longer needs no more heap to check.
    assert!(csv_peaks[1] < csv_peaks[0] + MIB / 4, "{csv_peaks:?}");
    assert!(csv_peaks[1] < MIB, "{csv_peaks:?}");
}
