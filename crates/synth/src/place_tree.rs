//! The generator of `data/places/tongliang.csv` below its district and town rows, kept as
//! the freshness check's reference: villages (村, codes 200–215 under every town, more under
//! some), communities (社区, 001…), and 2–4 grids (网格) under each.
//!
//! The district and town rows are read from the file itself, so it is the one list of them.

use crate::rng::{Rng, mix64};
use domain::{Place, PlaceLevel};
use std::collections::HashSet;
use std::fmt::Write;

const LEADING: &[char] = &[
    '金', '石', '桂', '龙', '凤', '高', '黄', '白', '青', '新', '双', '大', '小', '太', '永', '安',
    '清', '长', '万', '兴', '福', '和', '平', '广', '庆', '玉', '马', '柏', '松', '竹', '梨', '桃',
    '杨', '柳', '茶', '枫', '梅', '红', '古', '天', '乐', '宝', '银', '罗', '朝', '回', '三', '五',
    '七', '九', '中', '东', '西', '南', '北', '鹿', '鹤', '凉', '观', '狮', '莲',
];
const VILLAGE_TRAILING: &[char] = &[
    '龙', '河', '花', '山', '桥', '湾', '坝', '林', '溪', '坪', '塘', '岩', '田', '堰', '坡', '寺',
    '院', '池', '沟', '峰', '庄', '丰', '井', '阳', '岭', '垭', '台', '冲', '槽', '坎', '滩', '门',
    '屏', '水', '星', '云', '光', '江',
];
const COMMUNITY_TRAILING: &[char] = &[
    '园', '苑', '华', '兴', '城', '湖', '桥', '花', '龙', '峰', '河', '街', '苑', '林', '泉', '阳',
    '新', '和', '安',
];

/// The whole list: header, district, then each town followed by its villages, communities and grids.
pub(crate) fn expand(district: &Place, towns: &[Place]) -> String {
    let mut text = String::from("code,name\n");
    let _ = writeln!(text, "{},{}", district.code, district.name);
    for town in towns {
        let _ = writeln!(text, "{},{}", town.code, town.name);
        let town_number: u64 = town.code.as_str().parse().unwrap_or_default();
        let mut rng = Rng::new(mix64(town_number), 0x0050_4C41_4345);
        let street = town.name.ends_with("街道");
        let n_communities = if street {
            5 + rng.below(5)
        } else {
            1 + rng.below(2)
        };
        let n_villages = if street { 16 } else { 16 + rng.below(4) };
        let mut stems: HashSet<String> = HashSet::new();
        let units = (1..=n_communities)
            .map(|number| (number, "社区", COMMUNITY_TRAILING))
            .chain((200..200 + n_villages).map(|number| (number, "村", VILLAGE_TRAILING)));
        for (number, suffix, trailing) in units {
            let stem = loop {
                let first = rng.pick(LEADING);
                let second = rng.pick(trailing);
                let stem: String = [first, second].into_iter().collect();
                if first != second && stems.insert(stem.clone()) {
                    break stem;
                }
            };
            let village = format!("{}{number:03}", town.code);
            let _ = writeln!(text, "{village},{stem}{suffix}");
            for grid in 1..=2 + rng.below(3) {
                let _ = writeln!(text, "{village}{grid:03},第{grid}网格");
            }
        }
    }
    text
}

/// The district and town rows of a parsed list, the input of [`expand`].
pub(crate) fn district_and_towns(places: &[Place]) -> Option<(Place, Vec<Place>)> {
    let district = places
        .iter()
        .find(|place| place.code.level() == PlaceLevel::District)?;
    let towns = places
        .iter()
        .filter(|place| place.code.level() == PlaceLevel::Town)
        .cloned()
        .collect();
    Some((district.clone(), towns))
}
