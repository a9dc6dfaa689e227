//! Reference data any signed-in caller may read to fill a form: dictionaries (skills, need categories …),
//! communities to choose from, a community behind a QR code.

use shanzhi_domain::PlaceId;
use shanzhi_domain::org::DictKind;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_store::dict::DictEntry;
use shanzhi_store::places::Place;

use crate::{Caller, CaseResult, Cases};

pub struct Reference<'a>(&'a Cases);

impl Cases {
    pub fn reference(&self) -> Reference<'_> {
        Reference(self)
    }
}

impl Reference<'_> {
    /// A dictionary's entries (only the active ones unless `active_only` is false, for showing old records).
    pub async fn dict(
        &self,
        _c: &Caller,
        kind: DictKind,
        active_only: bool,
    ) -> CaseResult<Vec<DictEntry>> {
        Ok(self.0.store.list_dict(kind, active_only).await?)
    }

    /// Communities whose name or code contains `q` (the first by name when empty), at most `limit`.
    pub async fn communities(&self, _c: &Caller, q: &str, limit: i64) -> CaseResult<Vec<Place>> {
        Ok(self.0.store.search_communities(q, limit).await?)
    }

    /// One community by id, for showing a choice; `None` if it is not a community.
    pub async fn community(&self, _c: &Caller, id: PlaceId) -> CaseResult<Option<Place>> {
        match self.0.store.get_place_unscoped(id).await {
            Ok(p) if p.level() == Some(PlaceLevel::Community) => Ok(Some(p)),
            Ok(_) | Err(shanzhi_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The community behind a registration QR code (public: the code is printed on posters).
    pub async fn community_by_code(&self, code: &str) -> CaseResult<Option<Place>> {
        Ok(self
            .0
            .store
            .place_by_code(code)
            .await?
            .filter(|p| p.level() == Some(PlaceLevel::Community)))
    }
}
