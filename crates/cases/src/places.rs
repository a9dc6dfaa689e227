//! The place tree (区 → 街镇 → 村居 → 网格): where a caller's tree starts, one place with its breadcrumbs and
//! children (or the matches of a search anywhere below it), counts for each subtree, adding a child place and
//! editing one. Every function checks the permission table and reads only inside the caller's scope.

use shanzhi_domain::org::PlaceInput;
use shanzhi_domain::place::PlaceLevel;
use shanzhi_domain::role::{Action, Scope};
use shanzhi_domain::{Code, PlaceId};
use shanzhi_store::places::{Place, PlaceFilter, PlaceSummary};
use shanzhi_store::{Page, PageReq};

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of the place tree.
pub struct Places<'a>(&'a Cases);

impl Cases {
    pub fn places(&self) -> Places<'_> {
        Places(self)
    }
}

/// One place as its page shows it.
#[derive(Debug, Clone)]
pub struct PlaceView {
    pub place: PlaceSummary,
    /// Ancestors inside the caller's scope, root first.
    pub crumbs: Vec<Place>,
    /// Without a search, the direct children; with one, the matches anywhere below the place (never the place
    /// itself). `total` and paging count what the query matched.
    pub children: Page<PlaceSummary>,
}

impl Places<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// The top of the caller's tree (the district for the district, a town for a town …).
    pub async fn home(&self, c: &Caller) -> CaseResult<Place> {
        c.require(Action::PlaceView)?;
        self.store()
            .scope_roots(c.scope())
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::new(Code::NotFound))
    }

    /// Places in scope, filtered and paginated.
    pub async fn list(
        &self,
        c: &Caller,
        f: &PlaceFilter,
        page: PageReq,
    ) -> CaseResult<Page<Place>> {
        c.require(Action::PlaceView)?;
        Ok(self.store().list_places(c.scope(), f, page).await?)
    }

    /// One place in scope.
    pub async fn get(&self, c: &Caller, id: PlaceId) -> CaseResult<Place> {
        c.require(Action::PlaceView)?;
        Ok(self.store().get_place(c.scope(), id).await?)
    }

    /// One place in scope with counts for its subtree.
    pub async fn summary(&self, c: &Caller, id: PlaceId) -> CaseResult<PlaceSummary> {
        c.require(Action::PlaceView)?;
        let place = self.store().get_place(c.scope(), id).await?;
        Ok(self.store().place_summary(place).await?)
    }

    /// A place's page: the place, its breadcrumbs and, 25 a page, its children or the matches of `search`
    /// anywhere below it.
    pub async fn view(
        &self,
        c: &Caller,
        id: PlaceId,
        search: &str,
        page: Option<u32>,
    ) -> CaseResult<PlaceView> {
        c.require(Action::PlaceView)?;
        let place = self.store().get_place(c.scope(), id).await?;
        let crumbs = self.store().place_ancestors(c.scope(), &place).await?;
        let filter = if search.trim().is_empty() {
            PlaceFilter {
                parent_id: Some(place.id),
                ..Default::default()
            }
        } else {
            PlaceFilter {
                q: Some(search.to_string()),
                ..Default::default()
            }
        };
        // The place is in the caller's scope, so its subtree is too.
        let below = Scope::Subtree(place.path.clone());
        let found = self
            .store()
            .list_places(&below, &filter, PageReq::new(page, Some(25)))
            .await?;
        // The place's own figures come in the same query as its children's, last.
        let mut wanted: Vec<Place> = found
            .items
            .into_iter()
            .filter(|p| p.id != place.id)
            .collect();
        wanted.push(place);
        let mut items = self.store().place_summaries(wanted).await?;
        let place = items.pop().ok_or(AppError::new(Code::NotFound))?;
        let children = Page {
            items,
            total: found.total,
            page: found.page,
            per_page: found.per_page,
            total_capped: found.total_capped,
            next_after: found.next_after,
        };
        Ok(PlaceView {
            place,
            crumbs,
            children,
        })
    }

    /// The parent and the level of the place to add under it, for the form (refused below a grid).
    pub async fn new_child_form(
        &self,
        c: &Caller,
        parent: PlaceId,
    ) -> CaseResult<(Place, PlaceLevel)> {
        c.require(Action::PlaceEdit)?;
        let parent = self.store().get_place(c.scope(), parent).await?;
        let child = parent
            .level()
            .and_then(|l| l.child())
            .ok_or(AppError::new(Code::InvalidPlaceLevel))?;
        Ok((parent, child))
    }

    /// Adds a town, community or grid under a place in scope. The input is checked first; an unknown or
    /// out-of-scope parent is then an error on the field `parent_id`.
    pub async fn create(
        &self,
        c: &Caller,
        parent: PlaceId,
        input: &PlaceInput,
    ) -> CaseResult<PlaceId> {
        c.require(Action::PlaceEdit)?;
        let v = input.validate()?;
        Ok(self
            .store()
            .create_place(c.actor(), c.scope(), Some(parent), &v)
            .await?)
    }

    /// A place to edit.
    pub async fn edit_form(&self, c: &Caller, id: PlaceId) -> CaseResult<Place> {
        c.require(Action::PlaceEdit)?;
        Ok(self.store().get_place(c.scope(), id).await?)
    }

    /// Renames a place or changes its code or party organisation; returns it with its counts.
    pub async fn update(
        &self,
        c: &Caller,
        id: PlaceId,
        input: &PlaceInput,
    ) -> CaseResult<PlaceSummary> {
        c.require(Action::PlaceEdit)?;
        // An id outside the scope answers "not found" before the input is checked.
        self.store().get_place(c.scope(), id).await?;
        let v = input.validate()?;
        self.store()
            .update_place(c.actor(), c.scope(), id, &v)
            .await?;
        let place = self.store().get_place(c.scope(), id).await?;
        Ok(self.store().place_summary(place).await?)
    }
}
