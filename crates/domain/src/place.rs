//! The place tree: district > town (街镇) > community (村居) > grid (网格). Each place stores a materialised path
//! (`/1/5/23/`), so "this place and everything below it" is one range scan on an index at any depth.

use serde::{Deserialize, Serialize};

use crate::ids::PlaceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    District,
    Town,
    Community,
    Grid,
}

impl PlaceLevel {
    pub const ALL: [PlaceLevel; 4] = [
        PlaceLevel::District,
        PlaceLevel::Town,
        PlaceLevel::Community,
        PlaceLevel::Grid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceLevel::District => "district",
            PlaceLevel::Town => "town",
            PlaceLevel::Community => "community",
            PlaceLevel::Grid => "grid",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PlaceLevel::District => "区",
            PlaceLevel::Town => "街镇",
            PlaceLevel::Community => "村居",
            PlaceLevel::Grid => "网格",
        }
    }
    /// The level of a place's children; grids have none.
    pub fn child(self) -> Option<PlaceLevel> {
        match self {
            PlaceLevel::District => Some(PlaceLevel::Town),
            PlaceLevel::Town => Some(PlaceLevel::Community),
            PlaceLevel::Community => Some(PlaceLevel::Grid),
            PlaceLevel::Grid => None,
        }
    }
    pub fn depth(self) -> usize {
        match self {
            PlaceLevel::District => 1,
            PlaceLevel::Town => 2,
            PlaceLevel::Community => 3,
            PlaceLevel::Grid => 4,
        }
    }
}

/// The path of a child place: the parent's path plus the child's id.
pub fn child_path(parent_path: &str, id: PlaceId) -> String {
    format!("{parent_path}{}/", id.0)
}

/// The path of a root place.
pub fn root_path(id: PlaceId) -> String {
    format!("/{}/", id.0)
}

/// Half-open range `[lo, hi)` of paths in the subtree of `path` (which ends with `/`). Because `0` follows `/` in
/// ASCII, every descendant path sorts inside it, and no sibling such as `/1/50/` for `/1/5/` does.
pub fn subtree_range(path: &str) -> (String, String) {
    let lo = path.to_string();
    let hi = match path.strip_suffix('/') {
        Some(stem) => format!("{stem}0"),
        None => format!("{path}\u{10FFFF}"),
    };
    (lo, hi)
}

/// Whether `path` lies within the subtree rooted at `ancestor`.
pub fn is_within(path: &str, ancestor: &str) -> bool {
    path.starts_with(ancestor)
}

/// Ids along a path, root first.
pub fn path_ids(path: &str) -> Vec<PlaceId> {
    path.split('/')
        .filter_map(|s| s.parse().ok())
        .map(PlaceId)
        .collect()
}

/// 党组织层级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyOrgLevel {
    Committee,
    GeneralBranch,
    Branch,
}

impl PartyOrgLevel {
    pub const ALL: [PartyOrgLevel; 3] = [
        PartyOrgLevel::Committee,
        PartyOrgLevel::GeneralBranch,
        PartyOrgLevel::Branch,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PartyOrgLevel::Committee => "committee",
            PartyOrgLevel::GeneralBranch => "general_branch",
            PartyOrgLevel::Branch => "branch",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PartyOrgLevel::Committee => "党委",
            PartyOrgLevel::GeneralBranch => "党总支",
            PartyOrgLevel::Branch => "党支部",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_ranges_exclude_siblings() {
        let (lo, hi) = subtree_range("/1/5/");
        let inside = ["/1/5/", "/1/5/7/", "/1/5/70/123/"];
        let outside = ["/1/50/", "/1/6/", "/1/", "/1/4/9/", "/1/5"];
        for p in inside {
            assert!(p >= lo.as_str() && p < hi.as_str(), "{p} should be inside");
            assert!(is_within(p, "/1/5/"));
        }
        for p in outside {
            assert!(
                !(p >= lo.as_str() && p < hi.as_str()),
                "{p} should be outside"
            );
        }
        assert_eq!(
            path_ids("/1/5/70/"),
            vec![PlaceId(1), PlaceId(5), PlaceId(70)]
        );
        assert_eq!(child_path(&root_path(PlaceId(1)), PlaceId(5)), "/1/5/");
    }

    #[test]
    fn levels() {
        assert_eq!(PlaceLevel::Town.child(), Some(PlaceLevel::Community));
        assert_eq!(PlaceLevel::Grid.child(), None);
        assert_eq!(PlaceLevel::parse("community"), Some(PlaceLevel::Community));
        assert_eq!(
            PartyOrgLevel::parse("branch").map(|l| l.label()),
            Some("党支部")
        );
    }
}
