//! Backend dispatch. The body is expanded once per backend with `$p` bound to that backend's pool, so the same
//! source is type-checked against both drivers.

/// Run `$body` with a pool suited to reads.
macro_rules! rd {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pools {
            $crate::Pools::Sqlite { read: $p, .. } => $body,
            $crate::Pools::Postgres($p) => $body,
        }
    };
}

/// Run `$body` with the pool for writes (SQLite: the single writer connection).
macro_rules! wr {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pools {
            $crate::Pools::Sqlite { write: $p, .. } => $body,
            $crate::Pools::Postgres($p) => $body,
        }
    };
}

/// Adds ` AND <scope condition>` to a query builder: a subtree range on `$path`, a unit id on `$unit`, a member
/// id on `$member`. A column given as `""` means the scope kind does not apply and matches nothing.
macro_rules! push_scope {
    ($qb:expr, $scope:expr, path = $path:expr, unit = $unit:expr, member = $member:expr) => {{
        use shanzhi_domain::role::Scope;
        match $scope {
            Scope::Everything => {}
            Scope::Subtree(path) if !$path.is_empty() => {
                let (lo, hi) = shanzhi_domain::place::subtree_range(path);
                $qb.push(concat!(" AND ", $path, " >= "));
                $qb.push_bind(lo);
                $qb.push(concat!(" AND ", $path, " < "));
                $qb.push_bind(hi);
            }
            Scope::Unit(u) if !$unit.is_empty() => {
                $qb.push(concat!(" AND ", $unit, " = "));
                $qb.push_bind(u.0);
            }
            Scope::Member(m) if !$member.is_empty() => {
                $qb.push(concat!(" AND ", $member, " = "));
                $qb.push_bind(m.0);
            }
            _ => {
                $qb.push(" AND 1 = 0");
            }
        }
    }};
}

/// The one rule for which members a scope sees, in pages, API and ledgers alike: place scopes the members who live
/// in their subtree (`m.place_path`), a unit scope its own members (those waiting for its confirmation included,
/// those it declined not), a member scope themselves; nothing else. The query must alias `members` as `m`. Mirrors
/// `Scope::sees` in the domain (which is asked with no unit for a member the unit declined).
macro_rules! member_visible {
    ($qb:expr, $scope:expr) => {{
        push_scope!(
            $qb,
            $scope,
            path = "m.place_path",
            unit = "m.unit_id",
            member = "m.id"
        );
        if matches!($scope, shanzhi_domain::role::Scope::Unit(_)) {
            $qb.push(" AND m.unit_declined_at IS NULL");
        }
    }};
}

/// The one rule for which members count for their home unit (`m.unit_id`): the unit's 报到率, member counts and
/// ledgers, and any per-unit rollup. A member whose unit was named by a town or community counts only once the
/// unit's admin confirmed (`shanzhi_domain::roster::roster_write`); a declined one never. Residence-based counts
/// (by `place_path`) do not use it. Expands to an SQL condition (a string literal, for `concat!` or `push`) over
/// the members table aliased as the given literal:
///
/// ```text
/// concat!("SELECT COUNT(*) FROM members mm WHERE mm.unit_id = u.id AND ", member_counts_for_unit!("mm"))
/// ```
macro_rules! member_counts_for_unit {
    ($alias:literal) => {
        concat!($alias, ".unit_confirmed")
    };
}

/// The one rule for which units a scope sees, in pages, API and ledgers alike: place scopes the units located in
/// their subtree (`u.place_path`), a unit scope its own unit; nothing else. The query must alias `units` as `u`.
macro_rules! unit_visible {
    ($qb:expr, $scope:expr) => {
        push_scope!(
            $qb,
            $scope,
            path = "u.place_path",
            unit = "u.id",
            member = ""
        )
    };
}

/// The one write path of the store. In one transaction on the writer: `$change` (an expression over the
/// transaction `$tx`; `?` on database errors) makes a guarded change with its event rows and yields `Some(out)`,
/// or `None` when its guard matched nothing (then nothing is written and the result is `guard`, by default
/// `conflict`: the record changed meanwhile); the audit row `$entry` (which may read `$out`) is appended; commit.
/// A database error rolls everything back and becomes a stable code: a unique violation `unique` (by default
/// `conflict`), text PostgreSQL refuses `invalid_characters`, anything else an internal error.
///
/// Options, after the entry, in this order, each optional:
/// - `guard = <expr>`: the error when the guard matched nothing; or `guard = optional`: a guard that matches
///   nothing is no error (an idempotent write: nothing written, no audit row) and the result is `Option<out>`.
/// - `unique = <expr>`: the error for any unique violation; or `unique = |e| <expr>`: the error computed from the
///   violating `sqlx::Error` `e` (to tell constraints apart; `StoreError::from(e)` keeps it internal).
macro_rules! audited_write {
    // Internal: fold the options into `[guard] [|e| unique]`, then expand.
    (@opts $head:tt $guard:tt $unique:tt guard = optional $(, $($rest:tt)*)?) => {
        audited_write!(@opts $head [optional] $unique $($($rest)*)?)
    };
    (@opts $head:tt $guard:tt $unique:tt guard = $g:expr $(, $($rest:tt)*)?) => {
        audited_write!(@opts $head [$g] $unique $($($rest)*)?)
    };
    (@opts $head:tt $guard:tt $unique:tt unique = |$e:ident| $u:expr $(, $($rest:tt)*)?) => {
        audited_write!(@opts $head $guard [|$e| $u] $($($rest)*)?)
    };
    (@opts $head:tt $guard:tt $unique:tt unique = $u:expr $(, $($rest:tt)*)?) => {
        audited_write!(@opts $head $guard [|_e| $u] $($($rest)*)?)
    };
    (@opts $head:tt [optional] [|$e:ident| $unique:expr]) => {
        match audited_write!(@run $head) {
            Ok(out) => Ok(out),
            Err($e) if $crate::error::StoreError::is_unique(&$e) => Err($unique),
            Err(e) => Err($crate::error::StoreError::from(e)),
        }
    };
    (@opts $head:tt [$guard:expr] [|$e:ident| $unique:expr]) => {
        match audited_write!(@run $head) {
            Ok(Some(out)) => Ok(out),
            Ok(None) => Err($guard),
            Err($e) if $crate::error::StoreError::is_unique(&$e) => Err($unique),
            Err(e) => Err($crate::error::StoreError::from(e)),
        }
    };
    // Internal: the transaction itself, `Result<Option<out>, sqlx::Error>`.
    (@run ($store:expr, $actor:expr, |$tx:ident| $change:expr, |$out:ident| $entry:expr)) => {{
        let res: Result<Option<_>, sqlx::Error> = wr!($store, |p| {
            async {
                let mut $tx = p.begin().await?;
                match $change {
                    Some($out) => {
                        audit_in_tx!($store, $tx, $actor, &$entry);
                        $tx.commit().await?;
                        Ok(Some($out))
                    }
                    None => Ok(None),
                }
            }
            .await
        });
        res
    }};
    ($store:expr, $actor:expr, |$tx:ident| $change:expr, |$out:ident| $entry:expr $(, $($opt:tt)*)?) => {
        audited_write!(@opts ($store, $actor, |$tx| $change, |$out| $entry)
            [$crate::error::StoreError::Refused(shanzhi_domain::Code::Conflict)]
            [|_e| $crate::error::StoreError::Refused(shanzhi_domain::Code::Conflict)]
            $($($opt)*)?)
    };
}
