//! Who lives in the demo alliance: deterministic names, phones and
//! practising-certificate numbers from the seed, and the few accounts a
//! visitor signs in with.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Every demo address ends here, which is how the builder recognises a
/// database that holds only demo data.
pub const DEMO_DOMAIN: &str = "demo.gatekeeper.example";

/// The password of every demo sign-in (printed at start; demo data only).
pub const DEMO_PASSWORD: &str = "Demo-Alliance-2026";

/// The nine districts of the pilot city.
pub const DISTRICTS: [&str; 9] = [
    "渝中区",
    "江北区",
    "南岸区",
    "九龙坡区",
    "沙坪坝区",
    "大渡口区",
    "渝北区",
    "巴南区",
    "北碚区",
];

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "罗", "高", "林", "谭", "冉", "向", "秦",
];

const GIVEN: [&str; 30] = [
    "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "华", "平", "刚", "桂英", "玲", "建华", "文", "红", "晓燕", "志强", "海燕", "春梅", "丹", "雪",
    "婷",
];

const STREETS: [&str; 16] = [
    "解放碑",
    "石油路",
    "大坪",
    "观音岩",
    "华新",
    "五里店",
    "铜元局",
    "南坪",
    "杨家坪",
    "石桥铺",
    "小龙坎",
    "双碑",
    "龙溪",
    "回兴",
    "鱼洞",
    "天生",
];

/// A person's name, unique within the demo by a trailing number when the
/// pool repeats (kept short: it is shown on phones).
pub fn name(rng: &mut ChaCha8Rng) -> String {
    let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
    let given = GIVEN.choose(rng).copied().unwrap_or("敏");
    format!("{surname}{given}")
}

/// A mobile number of the demo (138 prefix, from the seed).
pub fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("138{:08}", rng.random_range(0..100_000_000u32))
}

/// A 15-digit practising-certificate number, unique by `n`.
pub fn certificate(n: usize) -> String {
    format!("1105001{:08}", n)
}

pub fn email(local: &str) -> String {
    format!("{local}@{DEMO_DOMAIN}")
}

/// The name of the community institution `n` of a district.
pub fn community_name(district: &str, n: usize) -> String {
    let street = super::pick(&STREETS, n).unwrap_or_default();
    let kind = if n % 3 == 2 {
        "镇卫生院"
    } else {
        "街道社区卫生服务中心"
    };
    format!("{district}{street}{kind}（{}）", n / STREETS.len() + 1)
}

/// One demo sign-in, printed at start and used by the test.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// What the visitor sees with it, e.g. "doctor in training".
    pub role: &'static str,
    pub email: String,
    pub name: String,
}
