//! The dictionaries the district admin keeps (skills, unit kinds, need categories): every entry of one
//! (inactive ones too) for whoever may see them, and adding, renaming, re-sorting or (de)activating an entry.
//! The active entries a form offers are in [`crate::reference`].

use shanzhi_domain::org::{DictEntryInput, DictKind};
use shanzhi_domain::role::Action;
use shanzhi_domain::{Code, DictEntryId};
use shanzhi_store::dict::DictEntry;

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of the dictionaries.
pub struct Dictionaries<'a>(&'a Cases);

impl Cases {
    pub fn dict(&self) -> Dictionaries<'_> {
        Dictionaries(self)
    }
}

impl Dictionaries<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// Every entry of a dictionary, inactive ones too, in display order. `None` (a name that is no
    /// dictionary) is not found, after the role check, so a caller without the role learns nothing from it.
    pub async fn list(&self, c: &Caller, kind: Option<DictKind>) -> CaseResult<Vec<DictEntry>> {
        c.require(Action::DictionaryView)?;
        let kind = kind.ok_or(AppError::new(Code::NotFound))?;
        Ok(self.store().list_dict(kind, false).await?)
    }

    /// Every entry of a dictionary, for the page where they are edited.
    pub async fn manage(&self, c: &Caller, kind: DictKind) -> CaseResult<Vec<DictEntry>> {
        c.require(Action::DictionaryEdit)?;
        Ok(self.store().list_dict(kind, false).await?)
    }

    /// One entry, to edit.
    pub async fn get(&self, c: &Caller, id: DictEntryId) -> CaseResult<DictEntry> {
        c.require(Action::DictionaryEdit)?;
        Ok(self.store().get_dict_entry(id).await?)
    }

    /// Adds an entry (its code unique within the dictionary). `None` as for [`Dictionaries::list`].
    pub async fn create(
        &self,
        c: &Caller,
        kind: Option<DictKind>,
        input: &DictEntryInput,
    ) -> CaseResult<DictEntryId> {
        c.require(Action::DictionaryEdit)?;
        let kind = kind.ok_or(AppError::new(Code::NotFound))?;
        let v = input.validate()?;
        Ok(self.store().create_dict_entry(c.actor(), kind, &v).await?)
    }

    /// Renames, re-sorts or (de)activates an entry; its code never changes (whatever `input.code` says), so
    /// records keep their meaning. Returns the entry as saved.
    pub async fn update(
        &self,
        c: &Caller,
        id: DictEntryId,
        input: &DictEntryInput,
    ) -> CaseResult<DictEntry> {
        c.require(Action::DictionaryEdit)?;
        let current = self.store().get_dict_entry(id).await?;
        let input = DictEntryInput {
            code: current.code,
            ..input.clone()
        };
        let v = input.validate()?;
        self.store().update_dict_entry(c.actor(), id, &v).await?;
        Ok(self.store().get_dict_entry(id).await?)
    }
}
