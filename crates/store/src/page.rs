//! Pagination for every list.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageReq {
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageReq {
    fn default() -> Self {
        PageReq {
            page: 1,
            per_page: 20,
        }
    }
}

impl PageReq {
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        PageReq {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
        }
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
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// A page of `items` out of `total`, as asked for by `req`.
    pub fn of(items: Vec<T>, total: i64, req: PageReq) -> Self {
        Page {
            items,
            total,
            page: req.page,
            per_page: req.per_page,
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
}
