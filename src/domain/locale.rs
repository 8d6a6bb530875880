//! The two languages of the interface and how one is chosen.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Locale {
    #[serde(rename = "zh-CN")]
    #[default]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Accepts the exact tags we use and their common spellings.
    pub fn parse(s: &str) -> Option<Locale> {
        let tag = s.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        match primary {
            "zh" => Some(Locale::ZhCn),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks from an Accept-Language header by quality value; the alliance's
    /// own language when nothing matches.
    pub fn negotiate(accept_language: Option<&str>) -> Locale {
        let Some(header) = accept_language else {
            return Locale::default();
        };
        let mut best: Option<(f32, usize, Locale)> = None;
        for (position, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let quality = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality <= 0.0 {
                continue;
            }
            if let Some(locale) = Locale::parse(tag) {
                // Higher quality wins; among equals, the earlier one.
                let better = match best {
                    None => true,
                    Some((q, p, _)) => quality > q || (quality == q && position < p),
                };
                if better {
                    best = Some((quality, position, locale));
                }
            }
        }
        best.map(|(_, _, l)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_and_spellings() {
        assert_eq!(Locale::parse("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("zh_cn"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("zh"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("en-GB"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        for l in Locale::ALL {
            assert_eq!(Locale::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn negotiates_by_quality_and_order() {
        assert_eq!(Locale::negotiate(None), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("en-US,en;q=0.9")), Locale::En);
        assert_eq!(
            Locale::negotiate(Some("fr, en;q=0.5, zh;q=0.8")),
            Locale::ZhCn
        );
        assert_eq!(Locale::negotiate(Some("en;q=0.9, zh-CN")), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("en, zh")), Locale::En);
        assert_eq!(Locale::negotiate(Some("de, fr")), Locale::ZhCn);
        assert_eq!(Locale::negotiate(Some("zh;q=0, en;q=0.1")), Locale::En);
        assert_eq!(Locale::negotiate(Some(";;,,q=")), Locale::ZhCn);
    }
}
