//! Chinese names: surnames ordered by frequency in Chongqing, given names by sex and generation.

use crate::rng::Rng;

/// Most frequent first; `surname` favours the front of the list.
const SURNAMES: &[&str] = &[
    "陈", "刘", "李", "王", "张", "杨", "周", "黄", "唐", "何", "罗", "谭", "蒋", "吴", "徐", "赵",
    "胡", "邓", "冉", "曾", "彭", "孙", "朱", "高", "林", "郭", "马", "梁", "谢", "袁", "向", "余",
    "熊", "付", "廖", "秦", "汪", "蔡", "雷", "程", "龙", "田", "杜", "冯", "魏", "肖", "任", "姚",
    "邹", "钟", "苏", "卢", "夏", "邱", "文", "江", "石", "贺", "蒲", "左", "甘", "牟", "游", "段",
    "汤", "易", "宋", "郑", "韩", "董", "沈", "吕", "潘", "叶", "万", "丁", "侯", "毛", "康", "白",
];

const MALE_OLD: &[&str] = &[
    "德明", "国华", "建国", "志强", "永福", "正华", "明学", "光荣", "世平", "长生", "福全", "天云",
    "家贵", "学文", "春林", "开富", "绍清", "德兴", "仁和", "树林", "廷发", "光明", "元华", "朝贵",
    "国清", "宗富", "大友", "益寿", "成章", "述明", "太平", "忠", "华", "贵", "林", "富", "清",
];
const FEMALE_OLD: &[&str] = &[
    "秀英", "桂兰", "玉兰", "淑珍", "凤英", "素芬", "秀珍", "桂芳", "玉珍", "淑华", "成芬", "光碧",
    "德秀", "明菊", "世琼", "永淑", "泽芳", "素华", "玉清", "翠兰", "菊英", "会芳", "碧英", "中秀",
    "春兰", "国芬", "淑芳", "兴碧", "正英", "惠", "英", "琼", "芬", "兰", "珍",
];
const MALE_MIDDLE: &[&str] = &[
    "伟", "勇", "军", "强", "斌", "涛", "海波", "建华", "小军", "志刚", "红兵", "建平", "明", "超",
    "刚", "波", "鹏", "杰", "林", "兵", "小平", "永川", "华林", "长江", "家林", "德军", "国强",
    "小东", "建军", "云峰", "海", "洪", "宇", "俊", "毅", "平",
];
const FEMALE_MIDDLE: &[&str] = &[
    "丽", "娟", "芳", "敏", "静", "燕", "红梅", "小红", "霞", "琴", "英", "莉", "梅", "玲", "小琴",
    "春燕", "晓燕", "丽娟", "小芳", "海燕", "秀", "艳", "雪梅", "红", "蓉", "利", "小梅", "小兰",
    "丹", "洁", "婷", "倩", "萍", "兰", "庆",
];
const MALE_YOUNG: &[&str] = &[
    "浩然", "宇轩", "子轩", "俊杰", "浩宇", "梓睿", "一鸣", "皓轩", "子豪", "明轩", "博文", "锦程",
    "俊熙", "宇航", "梓豪", "思远", "天佑", "子墨", "家乐", "文博", "泽宇", "晨阳", "睿", "航",
    "杰", "涛", "鑫", "凯", "磊", "洋", "轩", "豪", "博", "阳",
];
const FEMALE_YOUNG: &[&str] = &[
    "子涵", "欣怡", "梓涵", "雨涵", "诗琪", "一诺", "可欣", "紫萱", "思彤", "雨欣", "佳怡", "语嫣",
    "诗涵", "梦瑶", "若曦", "芷若", "欣悦", "嘉怡", "雨桐", "佳琪", "静怡", "思雨", "馨", "悦",
    "婷", "雪", "琳", "瑶", "璐", "颖", "妍", "然", "倩", "月",
];

/// A surname, the common ones more often (index weighted by the square of a uniform draw).
pub(crate) fn surname(rng: &mut Rng) -> &'static str {
    let draw = rng.unit();
    let idx = ((draw * draw) * SURNAMES.len() as f64) as usize;
    SURNAMES[idx.min(SURNAMES.len() - 1)]
}

/// A surname different from `other` (for a spouse or a mother).
pub(crate) fn surname_other_than(rng: &mut Rng, other: &str) -> &'static str {
    loop {
        let candidate = surname(rng);
        if candidate != other {
            return candidate;
        }
    }
}

/// A given name fitting the sex and the birth year.
pub(crate) fn given_name(rng: &mut Rng, male: bool, birth_year: i32) -> &'static str {
    let list = match (male, birth_year) {
        (true, ..=1969) => MALE_OLD,
        (false, ..=1969) => FEMALE_OLD,
        (true, 1970..=1999) => MALE_MIDDLE,
        (false, 1970..=1999) => FEMALE_MIDDLE,
        (true, _) => MALE_YOUNG,
        (false, _) => FEMALE_YOUNG,
    };
    rng.pick(list)
}
