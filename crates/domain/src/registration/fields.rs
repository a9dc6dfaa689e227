//! Field helpers shared by the registration forms.

use crate::error::{Code, FieldErrors};
use crate::validate;

pub(super) fn date_range(
    e: &mut FieldErrors,
    start: &str,
    end: &str,
    fs: &'static str,
    fe: &'static str,
) -> Option<(String, String)> {
    let s = validate::date(start).map_err(|c| e.add(fs, c)).ok();
    let t = validate::date(end).map_err(|c| e.add(fe, c)).ok();
    match (s, t) {
        (Some(s), Some(t)) if t < s => {
            e.add(fe, Code::InvalidDateRange);
            None
        }
        (Some(s), Some(t)) => Some((
            s.format("%Y-%m-%d").to_string(),
            t.format("%Y-%m-%d").to_string(),
        )),
        _ => None,
    }
}

pub(super) fn id_field<T: std::str::FromStr>(
    e: &mut FieldErrors,
    s: &str,
    field: &'static str,
    bad: Code,
) -> Option<T> {
    if s.trim().is_empty() {
        e.add(field, Code::Required);
        return None;
    }
    s.trim().parse().map_err(|_| e.add(field, bad)).ok()
}

pub(super) fn codes(
    e: &mut FieldErrors,
    list: &[String],
    field: &'static str,
    max: usize,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        if s.trim().is_empty() {
            continue;
        }
        match validate::code(s) {
            Ok(c) if !out.contains(&c) => out.push(c),
            Ok(_) => {}
            Err(_) => e.add(field, Code::InvalidChoice),
        }
    }
    if out.len() > max {
        e.add(field, Code::TooManyFields);
    }
    out
}
