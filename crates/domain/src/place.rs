//! 行政区划: places of the jurisdiction tree, district → town/street → village/community → grid.

use std::fmt;

/// 区划代码: the significant prefix of a national 12-digit statistical area code, extended by
/// three digits for a grid (网格). Stored without trailing padding:
/// district `500151`, town `500151102`, village `500151102201`, grid `500151102201001`.
/// The 12-digit padded form (`500151102000`) is accepted on parsing.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceCode(String);

/// The level of a place in the tree (U1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceLevel {
    /// 区县
    District,
    /// 镇街
    Town,
    /// 村社
    Village,
    /// 网格
    Grid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPlaceCode {
    #[error("区划代码只能由数字组成")]
    Characters,
    #[error("区划代码长度应为6、9、12或15位")]
    Length,
    #[error("区划代码的层级无效")]
    Level,
}

impl PlaceCode {
    pub fn parse(input: &str) -> Result<Self, InvalidPlaceCode> {
        let text = input.trim();
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(InvalidPlaceCode::Characters);
        }
        let significant = match text.len() {
            6 | 9 | 15 => text,
            12 if text.ends_with("000000") => &text[..6],
            12 if text.ends_with("000") => &text[..9],
            12 => text,
            _ => return Err(InvalidPlaceCode::Length),
        };
        if significant.len() > 6 && significant[6..9] == *"000" {
            return Err(InvalidPlaceCode::Level);
        }
        if significant.len() == 15 && significant[9..12] == *"000" {
            return Err(InvalidPlaceCode::Level);
        }
        Ok(Self(significant.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> PlaceLevel {
        match self.0.len() {
            6 => PlaceLevel::District,
            9 => PlaceLevel::Town,
            12 => PlaceLevel::Village,
            _ => PlaceLevel::Grid,
        }
    }

    /// The 12-digit padded statistical code (a grid gives its village's).
    pub fn statistical(&self) -> String {
        let mut code = self.0.chars().take(12).collect::<String>();
        while code.len() < 12 {
            code.push('0');
        }
        code
    }

    /// True when `other` is this place or lies under it.
    pub fn contains(&self, other: &PlaceCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The place one level up, if any.
    pub fn parent(&self) -> Option<PlaceCode> {
        match self.level() {
            PlaceLevel::District => None,
            PlaceLevel::Town => Some(Self(self.0[..6].to_owned())),
            PlaceLevel::Village => Some(Self(self.0[..9].to_owned())),
            PlaceLevel::Grid => Some(Self(self.0[..12].to_owned())),
        }
    }

    /// The ancestor at `level` (itself when already there), or None below it.
    pub fn at_level(&self, level: PlaceLevel) -> Option<PlaceCode> {
        let len = match level {
            PlaceLevel::District => 6,
            PlaceLevel::Town => 9,
            PlaceLevel::Village => 12,
            PlaceLevel::Grid => 15,
        };
        (self.0.len() >= len).then(|| Self(self.0[..len].to_owned()))
    }
}

impl AsRef<str> for PlaceCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlaceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PlaceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlaceCode({})", self.0)
    }
}

/// 区划: a named place of the jurisdiction tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub code: PlaceCode,
    pub name: String,
}

/// A fault in a place list, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第{line}行：{reason}")]
pub struct InvalidPlaceList {
    pub line: usize,
    pub reason: String,
}

/// Parses a place list: UTF-8 lines `code,name`, a header line `code,name` allowed, `#` comments.
/// Every place's parent must come before it (so the tree is whole), codes are unique.
pub fn parse_place_list(text: &str) -> Result<Vec<Place>, InvalidPlaceList> {
    let mut places: Vec<Place> = Vec::new();
    let mut known = std::collections::HashSet::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let raw = raw.trim().trim_start_matches('\u{feff}');
        if raw.is_empty() || raw.starts_with('#') || (idx == 0 && raw.starts_with("code,")) {
            continue;
        }
        let fail = |reason: String| InvalidPlaceList { line, reason };
        let (code, name) = raw
            .split_once(',')
            .ok_or_else(|| fail("应为“代码,名称”两列".to_owned()))?;
        let code = PlaceCode::parse(code).map_err(|error| fail(error.to_string()))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(fail("名称不能为空".to_owned()));
        }
        if let Some(parent) = code.parent() {
            if !known.contains(&parent) {
                return Err(fail(format!("上级区划{parent}未在此前列出")));
            }
        } else if !places.is_empty() {
            return Err(fail("只能有一个区县级区划，且须列在首行".to_owned()));
        }
        if !known.insert(code.clone()) {
            return Err(fail(format!("区划代码{code}重复")));
        }
        places.push(Place {
            code,
            name: name.to_owned(),
        });
    }
    if places.is_empty() {
        return Err(InvalidPlaceList {
            line: 0,
            reason: "区划清单为空".to_owned(),
        });
    }
    Ok(places)
}
