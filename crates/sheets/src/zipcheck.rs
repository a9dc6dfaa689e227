//! Defensive inspection of an xlsx (zip) upload before calamine is allowed near it.
//!
//! 1. Central directory: entry count, declared total uncompressed size and per-entry
//!    compression ratio (classic zip bombs are refused here without decompressing anything).
//! 2. A streaming pass that decompresses every entry into a fixed buffer, verifying that the
//!    real size matches the declared one (bombs that lie in their headers), and scanning XML
//!    for numeric attributes calamine uses as allocation sizes (`uniqueCount` of the shared
//!    strings table, `si` of shared formulas) so a tiny file cannot make it reserve gigabytes.

use std::io::{Read, Seek};

use crate::{Limits, SheetError};

/// Refuse archives with more entries than any sane workbook has.
const MAX_ENTRIES: usize = 10_000;
/// Total decompressed size allowed, as a multiple of `Limits::max_bytes`.
const UNCOMPRESSED_FACTOR: u64 = 20;
/// Entries at least this large must not exceed [`MAX_RATIO`].
const RATIO_MIN_SIZE: u64 = 1024 * 1024;
/// Worksheet XML compresses well, but not a thousandfold.
const MAX_RATIO: u64 = 200;

fn malformed(detail: impl Into<String>) -> SheetError {
    SheetError::Malformed(detail.into())
}

fn bomb() -> SheetError {
    malformed("压缩内容异常(疑似压缩炸弹)")
}

pub(crate) fn check(reader: impl Read + Seek, limits: &Limits) -> Result<(), SheetError> {
    let too_large = || SheetError::TooLarge {
        max_bytes: limits.max_bytes,
    };
    let budget = (limits.max_bytes as u64).saturating_mul(UNCOMPRESSED_FACTOR);
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|_| malformed("不是有效的 xlsx 文件(压缩包结构损坏)"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(malformed("压缩包内文件数量异常"));
    }

    // Pass 1: central directory only.
    let mut declared_total: u64 = 0;
    let mut looks_like_xlsx = false;
    let mut declared_sizes = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| malformed("压缩包目录损坏"))?;
        if entry.encrypted() {
            return Err(malformed("文件已加密,请取消密码后再上传"));
        }
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        let lower = entry.name_raw().to_ascii_lowercase();
        if lower.starts_with(b"xl/") || lower.starts_with(b"xl\\") {
            looks_like_xlsx = true;
        }
        if size >= RATIO_MIN_SIZE && size / compressed > MAX_RATIO {
            return Err(bomb());
        }
        declared_total = declared_total.saturating_add(size);
        if declared_total > budget {
            return Err(too_large());
        }
        let is_xml = {
            let name = entry.name_raw();
            name.ends_with(b".xml") || name.ends_with(b".rels")
        };
        declared_sizes.push((size, is_xml));
    }
    if !looks_like_xlsx {
        // A .docx, .ods, .zip … renamed to .xlsx.
        return Err(SheetError::UnsupportedFormat);
    }

    // Pass 2: decompress for real, bounded by the declared sizes.
    let mut buf = vec![0u8; 64 * 1024];
    for (i, &(declared, is_xml)) in declared_sizes.iter().enumerate() {
        let mut entry = zip.by_index(i).map_err(|_| malformed("压缩内容无法解压"))?;
        let mut scanner = is_xml.then(|| AttrScanner::new(attr_bound(declared)));
        let mut seen: u64 = 0;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|_| malformed("压缩内容无法解压"))?;
            if n == 0 {
                break;
            }
            seen += n as u64;
            if seen > declared {
                return Err(bomb());
            }
            if let Some(scanner) = scanner.as_mut() {
                scanner.feed(&buf[..n])?;
            }
        }
        if let Some(scanner) = scanner.as_mut() {
            scanner.finish()?;
        }
    }
    Ok(())
}

/// Largest acceptable count/index attribute for an XML part of `size` bytes: every shared
/// string or shared formula needs several bytes of markup, so more than size/8 is a lie.
fn attr_bound(size: u64) -> u64 {
    (size / 8).max(4096)
}

/// Attribute names whose numeric values calamine turns into allocations.
const WATCHED: [&[u8]; 2] = [b"uniqueCount", b"si"];

#[derive(Debug, Clone, Copy)]
enum ScanState {
    Idle,
    Name { which: usize, pos: usize },
    AfterName,
    AfterEq,
    Value { value: u64 },
}

/// Streaming matcher for `<ws>name<ws>=<ws>"<ws>[+]digits` across chunk boundaries.
struct AttrScanner {
    state: ScanState,
    prev_ws: bool,
    bound: u64,
}

impl AttrScanner {
    fn new(bound: u64) -> Self {
        AttrScanner {
            state: ScanState::Idle,
            prev_ws: true,
            bound,
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), SheetError> {
        for &b in chunk {
            let ws = b.is_ascii_whitespace();
            self.state = match self.state {
                ScanState::Idle => self.start(b),
                ScanState::Name { which, pos } => {
                    let name = WATCHED[which];
                    if name.get(pos) == Some(&b) {
                        if pos + 1 == name.len() {
                            ScanState::AfterName
                        } else {
                            ScanState::Name {
                                which,
                                pos: pos + 1,
                            }
                        }
                    } else {
                        ScanState::Idle
                    }
                }
                ScanState::AfterName if ws => ScanState::AfterName,
                ScanState::AfterName if b == b'=' => ScanState::AfterEq,
                ScanState::AfterName => ScanState::Idle,
                ScanState::AfterEq if ws => ScanState::AfterEq,
                ScanState::AfterEq if b == b'"' || b == b'\'' => ScanState::Value { value: 0 },
                ScanState::AfterEq => ScanState::Idle,
                ScanState::Value { value } if b.is_ascii_digit() => {
                    let value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                    if value > self.bound {
                        return Err(malformed("表格内部数据异常"));
                    }
                    ScanState::Value { value }
                }
                ScanState::Value { value: 0 } if ws || b == b'+' => ScanState::Value { value: 0 },
                ScanState::Value { .. } => ScanState::Idle,
            };
            self.prev_ws = ws;
        }
        Ok(())
    }

    fn start(&self, b: u8) -> ScanState {
        if !self.prev_ws {
            return ScanState::Idle;
        }
        match WATCHED.iter().position(|name| name.first() == Some(&b)) {
            Some(which) => ScanState::Name { which, pos: 1 },
            None => ScanState::Idle,
        }
    }

    fn finish(&mut self) -> Result<(), SheetError> {
        // Values are checked as digits arrive, nothing pending can exceed the bound.
        self.state = ScanState::Idle;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn scan(xml: &str, bound: u64) -> bool {
        let mut s = AttrScanner::new(bound);
        // feed byte by byte to exercise chunk boundaries
        for b in xml.as_bytes().chunks(1) {
            if s.feed(b).is_err() {
                return false;
            }
        }
        true
    }

    #[test]
    fn scanner_flags_huge_counts() {
        assert!(scan(r#"<sst count="10" uniqueCount="10">"#, 100));
        assert!(!scan(
            r#"<sst count="10" uniqueCount="99999999999999999999">"#,
            100
        ));
        assert!(!scan("<f t=\"shared\"\n si = '000500' ref=\"A1\"/>", 100));
        assert!(scan(r#"<f t="shared" si="5"/>"#, 100));
        // `xsi=` or `isi=` is not `si=`
        assert!(scan(r#"<a xsi="99999" />"#, 100));
        assert!(scan(r#"<a si="abc" />"#, 100));
    }
}
