#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Read, Write};

use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Formula, Workbook};
use zip::write::SimpleFileOptions;

use super::*;

fn limits() -> Limits {
    Limits::default()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_string()).collect()
}

/// Read every entry of a zip into (name, bytes).
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

fn zip_entries(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Rewrite one entry of an xlsx, keeping the others.
fn patch_entry(xlsx: &[u8], name: &str, f: impl Fn(String) -> String) -> Vec<u8> {
    let mut entries = unzip(xlsx);
    let entry = entries.iter_mut().find(|(n, _)| n == name).unwrap();
    entry.1 = f(String::from_utf8(entry.1.clone()).unwrap()).into_bytes();
    zip_entries(&entries)
}

fn sheet1_xml(xlsx: &[u8]) -> String {
    let entries = unzip(xlsx);
    let (_, data) = entries
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap();
    String::from_utf8(data.clone()).unwrap()
}

fn lines(t: &Table) -> Vec<usize> {
    t.rows.iter().map(|r| r.line).collect()
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_with_bom_and_chinese_headers() {
    let data = "\u{feff}姓名, 身份证号 ,联系电话\r\n张三,110101199001011234,13812345678\r\n";
    let t = read_table("党员.csv", data.as_bytes(), &limits()).unwrap();
    assert_eq!(t.headers, strings(&["姓名", "身份证号", "联系电话"]));
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].line, 2);
    assert_eq!(
        t.rows[0].cells,
        strings(&["张三", "110101199001011234", "13812345678"])
    );
    assert_eq!(t.column("身份证号"), Some(1));
    assert_eq!(t.rows[0].get(2), "13812345678");
    assert_eq!(t.rows[0].get(9), "");
}

#[test]
fn csv_detected_without_extension_when_utf8() {
    assert_eq!(
        detect("upload", "姓名\n张三\n".as_bytes()).unwrap(),
        Format::Csv
    );
    assert_eq!(detect("a.CSV", &[0xff, 0xfe, 0x00]).unwrap(), Format::Csv);
}

#[test]
fn csv_quoted_fields_with_commas_and_newlines() {
    let data =
        "姓名,地址,备注\n\"王五\",\"上海市,嘉定区\",\"第一行\n第二行\"\n赵六,\"说\"\"好\"\"的\",\n";
    let t = read_table("x.csv", data.as_bytes(), &limits()).unwrap();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(
        t.rows[0].cells,
        strings(&["王五", "上海市,嘉定区", "第一行\n第二行"])
    );
    // the record containing a newline is still one Excel row
    assert_eq!(t.rows[0].line, 2);
    assert_eq!(t.rows[1].line, 3);
    assert_eq!(t.rows[1].cells, strings(&["赵六", "说\"好\"的", ""]));
}

#[test]
fn csv_gbk_is_not_utf8() {
    // "姓名,电话\r\n张三,138" encoded as GBK (Excel's default "CSV (逗号分隔)" on Chinese Windows)
    let gbk: &[u8] = &[
        0xD0, 0xD5, 0xC3, 0xFB, b',', 0xB5, 0xE7, 0xBB, 0xB0, b'\r', b'\n', 0xD5, 0xC5, 0xC8, 0xFD,
        b',', b'1', b'3', b'8', b'\r', b'\n',
    ];
    let err = read_table("members.csv", gbk, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::NotUtf8), "{err:?}");
    assert_eq!(err.code(), "csv_not_utf8");
    assert!(err.message().contains("CSV UTF-8"));
}

#[test]
fn csv_blank_rows_skipped_and_line_numbers_correct() {
    let data = "\n姓名,电话\n\n张三,1\n,,\n  ,\u{3000}\n李四,2\n\n";
    let t = read_table("x.csv", data.as_bytes(), &limits()).unwrap();
    assert_eq!(t.headers, strings(&["姓名", "电话"]));
    assert_eq!(lines(&t), vec![4, 7]);
    assert_eq!(t.rows[1].cells, strings(&["李四", "2"]));
}

#[test]
fn csv_short_and_long_rows_normalised_to_header_length() {
    let data = "姓名,电话,\n张三\n李四,2,,\n";
    let t = read_table("x.csv", data.as_bytes(), &limits()).unwrap();
    assert_eq!(t.headers, strings(&["姓名", "电话"]));
    assert_eq!(t.rows[0].cells, strings(&["张三", ""]));
    assert_eq!(t.rows[1].cells, strings(&["李四", "2"]));
}

#[test]
fn csv_empty_file() {
    for data in ["", "\u{feff}", "\n\n,,\n"] {
        let err = read_table("x.csv", data.as_bytes(), &limits()).unwrap_err();
        assert!(matches!(err, SheetError::Empty), "{data:?}: {err:?}");
    }
}

#[test]
fn csv_too_many_rows_and_columns() {
    let small = Limits {
        max_rows: 3,
        max_cols: 3,
        ..Limits::default()
    };
    let ok = "a,b\n1,2\n3,4\n5,6\n";
    assert_eq!(
        read_table("x.csv", ok.as_bytes(), &small)
            .unwrap()
            .rows
            .len(),
        3
    );
    let rows = "a,b\n1,2\n3,4\n5,6\n7,8\n";
    let err = read_table("x.csv", rows.as_bytes(), &small).unwrap_err();
    assert!(
        matches!(err, SheetError::TooManyRows { max_rows: 3 }),
        "{err:?}"
    );
    let cols = "a,b,c,d\n1,2,3,4\n";
    let err = read_table("x.csv", cols.as_bytes(), &small).unwrap_err();
    assert!(
        matches!(err, SheetError::TooManyColumns { max_cols: 3 }),
        "{err:?}"
    );
    // trailing empty fields beyond the limit are tolerated
    let trailing = "a,b,,,,,,\n1,2,,,,,,\n";
    assert_eq!(
        read_table("x.csv", trailing.as_bytes(), &small)
            .unwrap()
            .rows
            .len(),
        1
    );
}

// ---------------------------------------------------------------- xlsx

#[test]
fn xlsx_roundtrip() {
    let columns = vec![
        Column::new("姓名"),
        Column::new("所在党支部"),
        Column {
            header: "备注".to_string(),
            min_width: 20,
        },
    ];
    let rows = vec![
        strings(&["张三", "嘉定区第一党支部", "多行\n备注"]),
        strings(&["李四", "", "0013"]),
        strings(&["王五", "嘉定区第二党支部", "2024-07-01"]),
    ];
    let bytes = write_xlsx("党员台账", &columns, &rows).unwrap();
    assert_eq!(detect("export.xlsx", &bytes).unwrap(), Format::Xlsx);
    let t = read_table("export.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(t.headers, strings(&["姓名", "所在党支部", "备注"]));
    let cells: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
    assert_eq!(cells, rows);
    assert_eq!(lines(&t), vec![2, 3, 4]);
}

#[test]
fn xlsx_write_neutralises_and_never_writes_formulas() {
    let rows = vec![strings(&["=1+1", "@SUM(A1)", "-5"])];
    let bytes = write_xlsx("台账", &[Column::new("甲"), Column::new("乙")], &rows).unwrap();
    let xml = sheet1_xml(&bytes);
    assert!(!xml.contains("<f>"), "{xml}");
    let t = read_table("x.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(t.rows[0].cells, strings(&["'=1+1", "'@SUM(A1)"]));
    // freeze pane on the header row
    assert!(xml.contains("ySplit=\"1\""), "{xml}");
}

#[test]
fn xlsx_numeric_mobile_and_dates_read_naturally() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "联系电话").unwrap();
    ws.write_string(0, 1, "入党日期").unwrap();
    ws.write_string(0, 2, "数值").unwrap();
    ws.write_string(0, 3, "大数").unwrap();
    ws.write_number(1, 0, 13812345678.0).unwrap();
    let date_fmt = CellFormat::new().set_num_format("yyyy-mm-dd");
    let date = ExcelDateTime::from_ymd(2021, 7, 1).unwrap();
    ws.write_datetime_with_format(1, 1, &date, &date_fmt)
        .unwrap();
    ws.write_number(1, 2, 0.1 + 0.2).unwrap();
    ws.write_number(1, 3, 1.1e20).unwrap();
    ws.write_number(2, 0, -42.0).unwrap();
    ws.write_number(2, 2, 3.25).unwrap();
    let bytes = wb.save_to_buffer().unwrap();

    let t = read_table("m.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(
        t.rows[0].cells,
        strings(&["13812345678", "2021-07-01", "0.3", "110000000000000000000"])
    );
    assert_eq!(t.rows[1].cells, strings(&["-42", "", "3.25", ""]));
    for cell in t.rows.iter().flat_map(|r| r.cells.iter()) {
        assert!(!cell.contains('e') && !cell.contains('E') && !cell.ends_with(".0"));
    }
}

#[test]
fn xlsx_formula_cell_is_refused() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(0, 1, "年龄").unwrap();
    ws.write_string(1, 0, "张三").unwrap();
    ws.write_number(1, 1, 30).unwrap();
    ws.write_string(2, 0, "李四").unwrap();
    ws.write_formula(2, 1, Formula::new("=B2+1").set_result("31"))
        .unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let err = read_table("f.xlsx", &bytes, &limits()).unwrap_err();
    match &err {
        SheetError::Formula { row, column } => {
            assert_eq!(*row, 3);
            assert_eq!(column, "年龄");
        }
        other => panic!("expected Formula, got {other:?}"),
    }
    assert_eq!(err.code(), "formula_not_allowed");
    assert!(
        err.message().starts_with("第3行「年龄」含公式"),
        "{}",
        err.message()
    );
}

#[test]
fn xlsx_blank_rows_skipped_and_line_numbers_correct() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(0, 1, "电话").unwrap();
    ws.write_string(2, 0, "张三").unwrap();
    ws.write_string(3, 1, "   ").unwrap(); // whitespace only → blank
    ws.write_string(5, 1, "139").unwrap();
    ws.write_string(6, 7, "无表头的列").unwrap(); // outside header columns → ignored
    let bytes = wb.save_to_buffer().unwrap();
    let t = read_table("b.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(lines(&t), vec![3, 6]);
    assert_eq!(t.rows[1].cells, strings(&["", "139"]));
}

#[test]
fn xlsx_first_visible_sheet_is_read() {
    let mut wb = Workbook::new();
    let hidden = wb.add_worksheet();
    hidden.set_name("选项").unwrap();
    hidden.write_string(0, 0, "下拉选项").unwrap();
    hidden.set_hidden(true);
    let main = wb.add_worksheet();
    main.set_name("党员").unwrap();
    main.write_string(0, 0, "姓名").unwrap();
    main.write_string(1, 0, "张三").unwrap();
    main.set_active(true);
    let bytes = wb.save_to_buffer().unwrap();
    let t = read_table("s.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(t.headers, strings(&["姓名"]));
}

#[test]
fn xlsx_too_many_rows_and_columns() {
    let columns = vec![Column::new("姓名"), Column::new("电话")];
    let rows: Vec<Vec<String>> = (0..11)
        .map(|i| vec![format!("人{i}"), format!("{i}")])
        .collect();
    let bytes = write_xlsx("s", &columns, &rows).unwrap();
    let ten = Limits {
        max_rows: 10,
        ..Limits::default()
    };
    let err = read_table("r.xlsx", &bytes, &ten).unwrap_err();
    assert!(
        matches!(err, SheetError::TooManyRows { max_rows: 10 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "too_many_rows");
    let eleven = Limits {
        max_rows: 11,
        ..Limits::default()
    };
    assert_eq!(
        read_table("r.xlsx", &bytes, &eleven).unwrap().rows.len(),
        11
    );

    let one_col = Limits {
        max_cols: 1,
        ..Limits::default()
    };
    let err = read_table("r.xlsx", &bytes, &one_col).unwrap_err();
    assert!(
        matches!(err, SheetError::TooManyColumns { max_cols: 1 }),
        "{err:?}"
    );
}

#[test]
fn oversize_is_refused_before_parsing() {
    let tiny = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let data = "姓名\n".repeat(50);
    let err = read_table("x.csv", data.as_bytes(), &tiny).unwrap_err();
    assert!(
        matches!(err, SheetError::TooLarge { max_bytes: 100 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "file_too_large");
    let msg = SheetError::TooLarge {
        max_bytes: 20 * 1024 * 1024,
    }
    .message();
    assert!(msg.contains("20 MB"), "{msg}");
}

#[test]
fn garbage_named_xlsx_is_an_error_not_a_panic() {
    // deterministic pseudo-random bytes (xorshift)
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let err = read_table("members.xlsx", &garbage, &limits()).unwrap_err();
    assert!(
        matches!(
            err,
            SheetError::Malformed(_) | SheetError::UnsupportedFormat
        ),
        "{err:?}"
    );

    // zip magic followed by garbage
    let mut fake_zip = b"PK\x03\x04".to_vec();
    fake_zip.extend_from_slice(&garbage);
    let err = read_table("members.xlsx", &fake_zip, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed(_)), "{err:?}");

    // a valid xlsx truncated halfway
    let good = write_xlsx("s", &[Column::new("姓名")], &[strings(&["张三"])]).unwrap();
    let err = read_table("t.xlsx", &good[..good.len() / 2], &limits()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed(_)), "{err:?}");
}

#[test]
fn zip_that_is_not_a_workbook_is_unsupported() {
    let docx = zip_entries(&[("word/document.xml".to_string(), b"<w:document/>".to_vec())]);
    let err = read_table("renamed.xlsx", &docx, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::UnsupportedFormat), "{err:?}");
}

#[test]
fn old_xls_is_unsupported() {
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(512, 0);
    for name in ["old.xls", "renamed.xlsx", "x.csv", "noext"] {
        let err = read_table(name, &xls, &limits()).unwrap_err();
        assert!(
            matches!(err, SheetError::UnsupportedFormat),
            "{name}: {err:?}"
        );
        assert_eq!(err.code(), "unsupported_file_format");
        assert_eq!(err.message(), "文件格式不支持,请上传 .xlsx 或 .csv 文件");
    }
    // binary junk with an unknown extension
    let err = detect("photo.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]).unwrap_err();
    assert!(matches!(err, SheetError::UnsupportedFormat));
}

#[test]
fn zip_bomb_is_refused() {
    // 64 MiB of zeros compresses to well under 100 KiB.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    w.start_file("[Content_Types].xml", opts).unwrap();
    w.write_all(b"<Types/>").unwrap();
    w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        w.write_all(&zeros).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 1024 * 1024, "bomb is {} bytes", bomb.len());

    // Refused from the zip directory's sizes and ratios, before anything is inflated into memory.
    let err = read_table("bomb.xlsx", &bomb, &limits()).unwrap_err();
    assert!(
        matches!(err, SheetError::Malformed(_) | SheetError::TooLarge { .. }),
        "{err:?}"
    );

    // With a tight byte limit the total decompressed size alone is enough to refuse.
    let tight = Limits {
        max_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let err = read_table("bomb.xlsx", &bomb, &tight).unwrap_err();
    assert!(matches!(err, SheetError::TooLarge { .. }), "{err:?}");
}

#[test]
fn moderately_compressed_content_over_budget_is_refused() {
    // ratio below the bomb threshold but total decompressed size > 20 × max_bytes
    let columns = vec![Column::new("姓名"), Column::new("备注")];
    let rows: Vec<Vec<String>> = (0..3000)
        .map(|i| vec![format!("党员{i}"), format!("备注内容{}", i * 7919)])
        .collect();
    let bytes = write_xlsx("s", &columns, &rows).unwrap();
    let tight = Limits {
        max_bytes: bytes.len() + 1,
        ..Limits::default()
    };
    // fits: real workbooks decompress to far less than 20×
    assert_eq!(
        read_table("ok.xlsx", &bytes, &tight).unwrap().rows.len(),
        3000
    );
    let tighter = Limits {
        max_bytes: bytes.len(),
        ..Limits::default()
    };
    assert!(read_table("ok.xlsx", &bytes, &tighter).is_ok());

    // Many entries, each below the ratio check threshold, adding up to more than 20 × max_bytes.
    let mut entries = vec![("xl/workbook.xml".to_string(), b"<workbook/>".to_vec())];
    for i in 0..30 {
        entries.push((format!("xl/media/pad{i}.xml"), vec![b' '; 900 * 1024]));
    }
    let many = zip_entries(&entries);
    let one_mib = Limits {
        max_bytes: 1024 * 1024,
        ..Limits::default()
    };
    assert!(many.len() < one_mib.max_bytes);
    let err = read_table("many.xlsx", &many, &one_mib).unwrap_err();
    assert!(matches!(err, SheetError::TooLarge { .. }), "{err:?}");
}

#[test]
fn hostile_allocation_attributes_are_refused() {
    let good = write_xlsx("s", &[Column::new("姓名")], &[strings(&["张三"])]).unwrap();
    let names: Vec<String> = unzip(&good).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().any(|n| n == "xl/sharedStrings.xml"),
        "{names:?}"
    );

    let huge_sst = patch_entry(&good, "xl/sharedStrings.xml", |xml| {
        let start = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = start + xml[start..].find('"').unwrap();
        format!("{}999999999999999{}", &xml[..start], &xml[end..])
    });
    let err = read_table("h.xlsx", &huge_sst, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed(_)), "{err:?}");

    let huge_si = patch_entry(&good, "xl/worksheets/sheet1.xml", |xml| {
        xml.replace(
            "</sheetData>",
            "<row r=\"9\"><c r=\"A9\"><f t=\"shared\" ref=\"A9:A10\" si=\"4000000000\">1</f></c></row></sheetData>",
        )
    });
    let err = read_table("h.xlsx", &huge_si, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed(_)), "{err:?}");
}

// ---------------------------------------------------------------- helpers & export

#[test]
fn neutralize_cases() {
    assert_eq!(neutralize("=SUM(A1:A2)"), "'=SUM(A1:A2)");
    assert_eq!(neutralize("+8613812345678"), "'+8613812345678");
    assert_eq!(neutralize("-1"), "'-1");
    assert_eq!(neutralize("@cmd"), "'@cmd");
    assert_eq!(neutralize("\tx"), "'\tx");
    assert_eq!(neutralize("\rx"), "'\rx");
    assert!(matches!(neutralize("张三"), Cow::Borrowed("张三")));
    assert!(matches!(neutralize(""), Cow::Borrowed("")));
    assert_eq!(neutralize("a=b"), "a=b");
    assert_eq!(neutralize(" =1"), " =1");
}

#[test]
fn display_width_counts_cjk_double() {
    assert_eq!(display_width("嘉定abc"), 7);
    assert_eq!(display_width(""), 0);
    assert_eq!(display_width("abc"), 3);
    assert_eq!(display_width("\u{FF08}全角\u{FF09}"), 8);
    assert_eq!(display_width("第一行\nab"), 6);
}

#[test]
fn write_xlsx_sets_explicit_column_widths() {
    let columns = vec![
        Column::new("所在党组织名称\u{FF08}全称\u{FF09}"), // 11 CJK + 2 full-width parens = 22
        Column::new("id"),
        Column {
            header: "备注".to_string(),
            min_width: 30,
        },
    ];
    let rows = vec![strings(&["上海市嘉定区某某街道党工委", "1", ""])];
    let bytes = write_xlsx("台账", &columns, &rows).unwrap();
    let xml = sheet1_xml(&bytes);
    let widths: Vec<f64> = xml
        .match_indices("<col ")
        .map(|(i, _)| {
            let rest = &xml[i..];
            let w = rest.find("width=\"").unwrap() + "width=\"".len();
            let end = w + rest[w..].find('"').unwrap();
            rest[w..end].parse::<f64>().unwrap()
        })
        .collect();
    assert_eq!(widths.len(), 3, "{xml}");
    assert!(widths[0] >= 24.0, "{widths:?}"); // 22 + 2 padding
    assert!((8.0..12.0).contains(&widths[1]), "{widths:?}"); // clamped up to 8
    assert!(widths[2] >= 30.0, "{widths:?}");
    // a cell wider than 60 is clamped
    let long = vec![vec!["长".repeat(100)]];
    let xml = sheet1_xml(&write_xlsx("t", &[Column::new("x")], &long).unwrap());
    assert!(xml.contains("width=\"60.7"), "{xml}");
}

#[test]
fn write_xlsx_sanitises_sheet_name() {
    let bytes = write_xlsx(
        "2024/01:台账[全部]?这是一个非常非常非常非常非常非常非常长的名字",
        &[],
        &[],
    )
    .unwrap();
    let entries = unzip(&bytes);
    let (_, wb) = entries
        .iter()
        .find(|(n, _)| n == "xl/workbook.xml")
        .unwrap();
    let wb = String::from_utf8(wb.clone()).unwrap();
    assert!(wb.contains("name=\"2024_01_台账_全部__这是"), "{wb}");
}

#[test]
fn write_csv_has_bom_crlf_and_neutralises() {
    let bytes = write_csv(
        &["姓名", "备注"],
        &[
            strings(&["张三", "=HYPERLINK(\"x\")"]),
            strings(&["李四", "a,b"]),
        ],
    )
    .unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert_eq!(
        text,
        "姓名,备注\r\n张三,\"'=HYPERLINK(\"\"x\"\")\"\r\n李四,\"a,b\"\r\n"
    );
    // and it reads back
    let t = read_table("out.csv", &bytes, &limits()).unwrap();
    assert_eq!(t.rows[1].cells, strings(&["李四", "a,b"]));
}

#[test]
fn templates_in_both_formats() {
    let headers = ["姓名", "身份证号", "联系电话"];
    let example = ["张三", "110101199001011234", "13812345678"];
    let csv = template(Format::Csv, &headers, Some(&example)).unwrap();
    let t = read_table("模板.csv", &csv, &limits()).unwrap();
    assert_eq!(t.headers, strings(&headers));
    assert_eq!(t.rows[0].cells, strings(&example));

    let xlsx = template(Format::Xlsx, &headers, None).unwrap();
    let t = read_table("模板.xlsx", &xlsx, &limits()).unwrap();
    assert_eq!(t.headers, strings(&headers));
    assert!(t.rows.is_empty());
    assert_eq!(Format::Xlsx.extension(), "xlsx");
}

#[test]
fn require_lists_exactly_the_missing_columns() {
    let t = Table {
        headers: strings(&["姓名", "性别", "联系电话\u{FF08}手机\u{FF09}", "身份证号 *"]),
        rows: Vec::new(),
    };
    assert_eq!(t.require(&["姓名", "身份证号"]).unwrap(), vec![0, 3]);
    assert_eq!(t.column("联系电话(手机)"), Some(2));
    assert_eq!(t.column("民族"), None);
    let err = t.require(&["民族", "姓名", "所在支部"]).unwrap_err();
    match &err {
        SheetError::MissingColumns(missing) => {
            assert_eq!(missing, &strings(&["民族", "所在支部"]));
        }
        other => panic!("expected MissingColumns, got {other:?}"),
    }
    assert_eq!(err.code(), "missing_columns");
    assert!(err.message().contains("「民族」「所在支部」"));
    assert_eq!(err.to_string(), err.message());
}

#[test]
fn every_error_has_code_and_message() {
    let all = [
        SheetError::UnsupportedFormat,
        SheetError::TooLarge { max_bytes: 1 },
        SheetError::TooManyRows { max_rows: 1 },
        SheetError::TooManyColumns { max_cols: 1 },
        SheetError::Formula {
            row: 2,
            column: "A列".into(),
        },
        SheetError::NotUtf8,
        SheetError::Malformed(String::new()),
        SheetError::Empty,
        SheetError::MissingColumns(vec!["姓名".into()]),
        SheetError::Write("x".into()),
    ];
    let codes: std::collections::HashSet<&str> = all.iter().map(SheetError::code).collect();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        assert!(!e.message().is_empty());
        assert!(
            e.code()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }
}

// ---------------------------------------------------------------- streaming

/// Collects what `read_rows` hands over, optionally stopping after `stop_after` rows.
#[derive(Default)]
struct Seen {
    headers: Vec<String>,
    rows: Vec<Row>,
    stop_after: Option<usize>,
}

impl RowSink for Seen {
    fn headers(&mut self, headers: &[String]) -> Result<(), SheetError> {
        assert!(self.rows.is_empty(), "headers come first");
        self.headers = headers.to_vec();
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<std::ops::ControlFlow<()>, SheetError> {
        self.rows.push(row);
        Ok(match self.stop_after {
            Some(n) if self.rows.len() >= n => std::ops::ControlFlow::Break(()),
            _ => std::ops::ControlFlow::Continue(()),
        })
    }
}

fn read_file(name: &str, bytes: &[u8]) -> Seen {
    let dir = tempfile_dir();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let mut seen = Seen::default();
    read_rows(name, Input::File(&path), &limits(), &mut seen).unwrap();
    std::fs::remove_file(&path).unwrap();
    seen
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shanzhi-sheets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn csv_from_a_file_keeps_excel_line_numbers_across_buffers() {
    // Long enough to cross the readers' buffers many times; CRLF, empty lines and quoted line breaks mixed in.
    let mut data = String::from("\u{feff}姓名,备注\r\n");
    let mut want = Vec::new();
    let mut line = 2;
    for i in 0..20_000 {
        match i % 7 {
            0 => {
                // One Excel row, whatever the line breaks inside the quotes.
                data.push_str(&format!("人{i},\"两行\r\n备注\"\r\n"));
                want.push((line, format!("人{i}")));
                line += 1;
            }
            1 => {
                data.push_str("\r\n\n");
                line += 2;
            }
            2 => {
                data.push_str(&format!("人{i},x\r"));
                want.push((line, format!("人{i}")));
                line += 1;
            }
            _ => {
                data.push_str(&format!("人{i},{}\n", "长".repeat(i % 50)));
                want.push((line, format!("人{i}")));
                line += 1;
            }
        }
    }
    let from_file = read_file("big.csv", data.as_bytes());
    let in_memory = read_table("big.csv", data.as_bytes(), &limits()).unwrap();
    assert_eq!(from_file.headers, strings(&["姓名", "备注"]));
    let got: Vec<(usize, String)> = from_file
        .rows
        .iter()
        .map(|r| (r.line, r.cells[0].clone()))
        .collect();
    assert_eq!(got.len(), want.len());
    let first_wrong = got.iter().zip(&want).find(|(g, w)| g != w);
    assert!(first_wrong.is_none(), "{first_wrong:?}");
    assert_eq!(
        lines(&in_memory),
        want.iter().map(|w| w.0).collect::<Vec<_>>()
    );
}

#[test]
fn xlsx_from_a_file_reads_like_from_memory() {
    let columns = vec![Column::new("姓名"), Column::new("电话")];
    let rows: Vec<Vec<String>> = (0..3_000)
        .map(|i| vec![format!("人{i}"), format!("1370000{i:04}")])
        .collect();
    let bytes = write_xlsx("s", &columns, &rows).unwrap();
    let from_file = read_file("big.xlsx", &bytes);
    let in_memory = read_table("big.xlsx", &bytes, &limits()).unwrap();
    assert_eq!(from_file.headers, in_memory.headers);
    assert_eq!(from_file.rows.len(), 3_000);
    for (a, b) in from_file.rows.iter().zip(&in_memory.rows) {
        assert_eq!((a.line, &a.cells), (b.line, &b.cells));
    }
}

#[test]
fn a_sink_can_stop_the_reading() {
    let csv = "a\n1\n2\n3\n";
    let xlsx = write_xlsx(
        "s",
        &[Column::new("a")],
        &[strings(&["1"]), strings(&["2"]), strings(&["3"])],
    )
    .unwrap();
    for (name, bytes) in [("s.csv", csv.as_bytes()), ("s.xlsx", &xlsx[..])] {
        let mut seen = Seen {
            stop_after: Some(2),
            ..Seen::default()
        };
        read_rows(name, Input::Bytes(bytes), &limits(), &mut seen).unwrap();
        assert_eq!(seen.rows.len(), 2, "{name}");
    }
}

#[test]
fn xlsx_rows_out_of_order_are_refused() {
    let good = write_xlsx(
        "s",
        &[Column::new("姓名")],
        &[strings(&["张三"]), strings(&["李四"])],
    )
    .unwrap();
    let swapped = patch_entry(&good, "xl/worksheets/sheet1.xml", |xml| {
        let start = xml.find("<row r=\"2\"").unwrap();
        let end = xml.find("</sheetData>").unwrap();
        let rows = &xml[start..end];
        let second = rows.find("<row r=\"3\"").unwrap();
        format!(
            "{}{}{}{}",
            &xml[..start],
            &rows[second..],
            &rows[..second],
            &xml[end..]
        )
    });
    let err = read_table("o.xlsx", &swapped, &limits()).unwrap_err();
    assert!(matches!(err, SheetError::Malformed(_)), "{err:?}");
}

#[test]
fn a_utf8_character_cut_by_the_head_is_still_csv() {
    let text = "姓名\n张三\n".as_bytes();
    // Cut in the middle of "名" (3 bytes in UTF-8).
    assert_eq!(
        detect_head("upload", &text[..4], false).unwrap(),
        Format::Csv
    );
    assert!(detect_head("upload", &text[..4], true).is_err());
}
