//! Pagination for every list.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageReq {
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
    /// Keyset cursor: the page starts after this record (`next_after` of the page before). Lists that support it
    /// ignore `page` then, so a deep page never skips rows with OFFSET.
    #[serde(default)]
    pub after: Option<i64>,
}

impl Default for PageReq {
    fn default() -> Self {
        PageReq {
            page: 1,
            per_page: 20,
            after: None,
        }
    }
}

impl PageReq {
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        PageReq {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
            after: None,
        }
    }
    /// Continues after the record `after` (keyset paging) instead of at `page`.
    pub fn after(mut self, after: Option<i64>) -> Self {
        self.after = after;
        self
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many records match; a lower bound when `total_capped` is true.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    /// A search matched more than [`TOTAL_CAP`] records and `total` stops counting there (shown as "1000+").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub total_capped: bool,
    /// Keyset cursor of the next page (pass it as `after`), on lists paged by key; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// Where a search stops counting its matches: a search never counts the whole district.
pub const TOTAL_CAP: i64 = 1000;

impl<T> Page<T> {
    /// A page of `items` out of `total`, as asked for by `req`.
    pub fn of(items: Vec<T>, total: i64, req: PageReq) -> Self {
        Page {
            items,
            total,
            page: req.page,
            per_page: req.per_page,
            total_capped: false,
            next_after: None,
        }
    }
    /// Nothing matched (e.g. a filter place outside the caller's scope).
    pub fn empty(req: PageReq) -> Self {
        Self::of(Vec::new(), 0, req)
    }
    pub fn pages(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per - 1) / per)
            .unwrap_or(u32::MAX)
            .max(1)
    }
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }
    /// A count that stopped at `counted` (from a query capped at [`TOTAL_CAP`] + 1) as `total`/`total_capped`.
    pub fn with_capped_total(mut self, counted: i64) -> Self {
        self.total_capped = counted > TOTAL_CAP;
        self.total = counted.min(TOTAL_CAP);
        self
    }
}
