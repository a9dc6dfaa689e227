//! Editing the dictionaries (skills, unit kinds, need categories) — the district admin. Reading them to fill a
//! form is in [`crate::reference`].

use shanzhi_domain::DictEntryId;
use shanzhi_domain::org::{DictEntryInput, DictKind};
use shanzhi_domain::role::Action;
use shanzhi_store::dict::DictEntry;

use crate::{Caller, CaseResult, Cases};

/// The use cases of dictionary editing.
pub struct Dictionaries<'a>(&'a Cases);

impl Cases {
    pub fn dictionaries(&self) -> Dictionaries<'_> {
        Dictionaries(self)
    }
}

impl Dictionaries<'_> {
    /// Every entry of a dictionary, inactive ones included, for editing.
    pub async fn entries(&self, c: &Caller, kind: DictKind) -> CaseResult<Vec<DictEntry>> {
        c.require(Action::DictionaryEdit)?;
        Ok(self.0.store.list_dict(kind, false).await?)
    }

    /// One entry, for editing.
    pub async fn get(&self, c: &Caller, id: DictEntryId) -> CaseResult<DictEntry> {
        c.require(Action::DictionaryEdit)?;
        Ok(self.0.store.get_dict_entry(id).await?)
    }

    /// Adds an entry.
    pub async fn create(
        &self,
        c: &Caller,
        kind: DictKind,
        input: &DictEntryInput,
    ) -> CaseResult<DictEntryId> {
        c.require(Action::DictionaryEdit)?;
        let v = input.validate()?;
        Ok(self.0.store.create_dict_entry(c.actor(), kind, &v).await?)
    }

    /// Renames, re-sorts or (de)activates an entry; its code never changes (the input's code is ignored).
    pub async fn update(
        &self,
        c: &Caller,
        id: DictEntryId,
        input: &DictEntryInput,
    ) -> CaseResult<()> {
        c.require(Action::DictionaryEdit)?;
        let current = self.0.store.get_dict_entry(id).await?;
        let input = DictEntryInput {
            code: current.code,
            ..input.clone()
        };
        let v = input.validate()?;
        Ok(self.0.store.update_dict_entry(c.actor(), id, &v).await?)
    }
}
