//! Figures per place as rollups (tables `place_stats`, `place_round_stats`), so that no page counts rows to show a
//! number. Every write that moves a figure changes the rollups of the place's ancestors in its own transaction:
//!
//! - a new row adds its figures (`create_member`, `create_unit`, `create_place`, the bulk inserts of imports and the
//!   demo, from the paths their inserts return);
//! - a write that changes a member or a unit takes its **footprint** first (the member row or unit row is locked
//!   on PostgreSQL, so concurrent writes to the same record take turns), makes its change, takes the footprint
//!   again and applies the difference ([`member_figures!`], [`unit_figures!`]): moving residence, accepting,
//!   confirming, withdrawing a registration or accepting a transfer (which releases the old one), accepting,
//!   returning or withdrawing a unit registration, moving a unit.
//!
//! Writes that cannot move a figure apply nothing: submitting, resubmitting, returning a submitted registration,
//! asking for a transfer, carrying over (the carried rows wait as `carried`), closing a round (only pending rows
//! expire), opening a round (a new round has no accepted registration). There is no delete of members, units or
//! places; one would apply the negative footprint of what it removes.
//!
//! Rollup rows are changed in one order (places by id, then rounds by (round, place)) and always last in a
//! transaction, so two writers never wait for each other in a cycle. [`Store::place_figures_recount`] counts the
//! same figures from the rows, for the tests that check the rollups.

use std::collections::{BTreeMap, BTreeSet};

use shanzhi_domain::place;

/// Figures of places, or changes to them: per place `[children, units, members]`, per (round, place)
/// `[registered, units_registered]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Figures {
    pub(crate) base: BTreeMap<i64, [i64; 3]>,
    pub(crate) round: BTreeMap<(i64, i64), [i64; 2]>,
}

const CHILDREN: usize = 0;
const UNITS: usize = 1;
const MEMBERS: usize = 2;
const REGISTERED: usize = 0;
const UNITS_REGISTERED: usize = 1;

impl Figures {
    fn base_at(&mut self, path: &str, figure: usize, n: i64) {
        for id in place::path_ids(path) {
            self.base.entry(id.0).or_default()[figure] += n;
        }
    }

    /// A new child place of `parent`.
    pub(crate) fn child_of(&mut self, parent: i64) {
        self.base.entry(parent).or_default()[CHILDREN] += 1;
    }

    /// `n` members living at `path` (counted at the place and every ancestor).
    pub(crate) fn members_at(&mut self, path: &str, n: i64) {
        self.base_at(path, MEMBERS, n);
    }

    /// `n` units located at `path`.
    pub(crate) fn units_at(&mut self, path: &str, n: i64) {
        self.base_at(path, UNITS, n);
    }

    /// A member living at `path` with an accepted registration in `round`.
    pub(crate) fn registered_at(&mut self, round: i64, path: &str) {
        for id in place::path_ids(path) {
            self.round.entry((round, id.0)).or_default()[REGISTERED] += 1;
        }
    }

    /// One unit's accepted registrations in `round` at `paths`: each place counts the unit once, however many of
    /// them lie in its subtree.
    pub(crate) fn unit_registered_in<'a>(
        &mut self,
        round: i64,
        paths: impl IntoIterator<Item = &'a str>,
    ) {
        let places: BTreeSet<i64> = paths
            .into_iter()
            .flat_map(place::path_ids)
            .map(|id| id.0)
            .collect();
        for id in places {
            self.round.entry((round, id)).or_default()[UNITS_REGISTERED] += 1;
        }
    }

    /// Adds `other` to these figures.
    pub(crate) fn add(&mut self, other: Figures) {
        for (k, v) in other.base {
            let e = self.base.entry(k).or_default();
            for i in 0..3 {
                e[i] += v[i];
            }
        }
        for (k, v) in other.round {
            let e = self.round.entry(k).or_default();
            for i in 0..2 {
                e[i] += v[i];
            }
        }
    }

    /// `self - before`, without the figures that did not change.
    pub(crate) fn minus(mut self, before: &Figures) -> Figures {
        for (k, v) in &before.base {
            let e = self.base.entry(*k).or_default();
            for i in 0..3 {
                e[i] -= v[i];
            }
        }
        for (k, v) in &before.round {
            let e = self.round.entry(*k).or_default();
            for i in 0..2 {
                e[i] -= v[i];
            }
        }
        self.base.retain(|_, v| v.iter().any(|n| *n != 0));
        self.round.retain(|_, v| v.iter().any(|n| *n != 0));
        self
    }
}

/// Adds `$figures` (a [`Figures`] of changes) to the rollups inside the open transaction `$tx`, in the one lock
/// order (places by id, then (round, place)). A place without a row gets one.
macro_rules! stats_in_tx {
    ($tx:expr, $figures:expr) => {{
        let figures: &$crate::stats::Figures = &$figures;
        for (place, [children, units, members]) in &figures.base {
            sqlx::query(
                "INSERT INTO place_stats (place_id, children, units, members) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (place_id) DO UPDATE SET children = place_stats.children + excluded.children, \
                 units = place_stats.units + excluded.units, members = place_stats.members + excluded.members",
            )
            .bind(*place)
            .bind(*children)
            .bind(*units)
            .bind(*members)
            .execute(&mut *$tx)
            .await?;
        }
        for ((round, place), [registered, units_registered]) in &figures.round {
            sqlx::query(
                "INSERT INTO place_round_stats (place_id, round_id, registered, units_registered) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (place_id, round_id) DO UPDATE SET \
                 registered = place_round_stats.registered + excluded.registered, \
                 units_registered = place_round_stats.units_registered + excluded.units_registered",
            )
            .bind(*place)
            .bind(*round)
            .bind(*registered)
            .bind(*units_registered)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// What one member adds to the figures, read inside the open transaction `$tx`: the member where they live, and
/// registered there in every round with an accepted registration. On PostgreSQL the member row is locked until
/// the transaction ends, so writes to the same member take turns between their two footprints. A member that does
/// not exist adds nothing.
macro_rules! member_figures {
    ($store:expr, $tx:expr, $member:expr) => {{
        let member: i64 = $member;
        let path: Option<(String,)> = if $store.is_pg() {
            sqlx::query_as("SELECT place_path FROM members WHERE id = $1 FOR UPDATE")
                .bind(member)
                .fetch_optional(&mut *$tx)
                .await?
        } else {
            sqlx::query_as("SELECT place_path FROM members WHERE id = $1")
                .bind(member)
                .fetch_optional(&mut *$tx)
                .await?
        };
        let mut figures = $crate::stats::Figures::default();
        if let Some((path,)) = path {
            figures.members_at(&path, 1);
            let rounds: Vec<(i64,)> = sqlx::query_as(
                "SELECT DISTINCT round_id FROM registrations WHERE member_id = $1 AND status = 'accepted'",
            )
            .bind(member)
            .fetch_all(&mut *$tx)
            .await?;
            for (round,) in rounds {
                figures.registered_at(round, &path);
            }
        }
        figures
    }};
}

/// What one unit adds to the figures, read inside the open transaction `$tx`: the unit where it is located, and
/// in every round the places of its accepted registrations (each place once). The unit row is locked on
/// PostgreSQL like the member row in [`member_figures!`].
macro_rules! unit_figures {
    ($store:expr, $tx:expr, $unit:expr) => {{
        let unit: i64 = $unit;
        let path: Option<(String,)> = if $store.is_pg() {
            sqlx::query_as("SELECT place_path FROM units WHERE id = $1 FOR UPDATE")
                .bind(unit)
                .fetch_optional(&mut *$tx)
                .await?
        } else {
            sqlx::query_as("SELECT place_path FROM units WHERE id = $1")
                .bind(unit)
                .fetch_optional(&mut *$tx)
                .await?
        };
        let mut figures = $crate::stats::Figures::default();
        if let Some((path,)) = path {
            figures.units_at(&path, 1);
            let regs: Vec<(i64, String)> = sqlx::query_as(
                "SELECT round_id, place_path FROM unit_registrations WHERE unit_id = $1 AND status = 'accepted' \
                 ORDER BY round_id",
            )
            .bind(unit)
            .fetch_all(&mut *$tx)
            .await?;
            let mut by_round: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
            for (round, p) in &regs {
                by_round.entry(*round).or_default().push(p.as_str());
            }
            for (round, paths) in by_round {
                figures.unit_registered_in(round, paths);
            }
        }
        figures
    }};
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::Figures;

    #[test]
    fn a_move_changes_both_branches_but_not_the_common_ancestors() {
        let mut before = Figures::default();
        before.members_at("/1/2/3/", 1);
        before.registered_at(7, "/1/2/3/");
        let mut after = Figures::default();
        after.members_at("/1/2/4/", 1);
        after.registered_at(7, "/1/2/4/");
        let d = after.minus(&before);
        assert_eq!(d.base.keys().copied().collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(d.base[&3], [0, 0, -1]);
        assert_eq!(d.base[&4], [0, 0, 1]);
        assert_eq!(d.round[&(7, 3)], [-1, 0]);
        assert_eq!(d.round[&(7, 4)], [1, 0]);
    }

    #[test]
    fn a_unit_registered_twice_below_a_place_counts_once_there() {
        let mut f = Figures::default();
        f.unit_registered_in(1, ["/1/2/", "/1/2/3/"]);
        assert_eq!(f.round[&(1, 1)], [0, 1]);
        assert_eq!(f.round[&(1, 2)], [0, 1]);
        assert_eq!(f.round[&(1, 3)], [0, 1]);
    }
}
