//! Translations (rust-i18n; the texts are in locales/*.yml). Templates get a
//! `Tr` and call `tr.t("key")`.

use crate::domain::locale::Locale;
use crate::domain::roles::Role;

/// A translator bound to one locale.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub locale: Locale,
}

impl Tr {
    pub fn new(locale: Locale) -> Self {
        Tr { locale }
    }

    /// The text for `key`, falling back to English, then to the key itself
    /// (which a test forbids for every key in use).
    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.locale.as_str()).into_owned()
    }

    /// The text for `key` with `%{name}` placeholders filled in.
    pub fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        text
    }

    /// A validation message from `domain/`, translated when the locale has a
    /// text for it (under `errors.`), otherwise as written.
    pub fn error_message(&self, message: &str) -> String {
        let key = format!("errors.{message}");
        let text = self.t(&key);
        if text == key || text.ends_with(&key) {
            message.to_owned()
        } else {
            text
        }
    }

    /// The label of a form field.
    pub fn field(&self, field: &str) -> String {
        let key = format!("fields.{field}");
        let text = self.t(&key);
        if text.ends_with(&key) {
            field.to_owned()
        } else {
            text
        }
    }

    pub fn role_name(&self, role: &Role) -> String {
        self.t(&format!("roles.{}", role.as_str()))
    }

    /// What a role does in the product, for the home page.
    pub fn role_does(&self, role: &Role) -> String {
        self.t(&format!("home.does.{}", role.as_str()))
    }

    pub fn level_name(&self, level: &str) -> String {
        self.t(&format!("levels.{level}"))
    }

    pub fn scope_name(&self, scope: &str) -> String {
        self.t(&format!("scopes.{scope}"))
    }

    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the templates and code ask for exists in both languages.
    #[test]
    fn every_key_in_use_is_translated_in_both_languages() {
        let mut keys = std::collections::BTreeSet::new();
        for dir in ["templates", "src"] {
            collect_keys(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
                &mut keys,
            );
        }
        assert!(keys.len() > 50, "found only {} keys", keys.len());
        for locale in Locale::ALL {
            let tr = Tr::new(locale);
            for key in &keys {
                let text = tr.t(key);
                assert!(
                    !text.ends_with(key.as_str()),
                    "{} lacks {key}",
                    locale.as_str()
                );
            }
        }
        // Spot-check that the languages differ.
        assert_ne!(
            Tr::new(Locale::En).t("sign_in.title"),
            Tr::new(Locale::ZhCn).t("sign_in.title")
        );
    }

    fn collect_keys(dir: &std::path::Path, keys: &mut std::collections::BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_keys(&path, keys);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for marker in ["tr.t(\"", "tr.t_with(\"", ".notice(\""] {
                for piece in text.split(marker).skip(1) {
                    let key: String = piece.chars().take_while(|c| *c != '"').collect();
                    if key.contains('.')
                        && key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                    {
                        keys.insert(key);
                    }
                }
            }
        }
    }

    #[test]
    fn domain_messages_translate_or_pass_through() {
        let zh = Tr::new(Locale::ZhCn);
        assert_eq!(zh.error_message("is required"), "为必填项");
        assert_eq!(zh.error_message("something new"), "something new");
        assert_eq!(
            Tr::new(Locale::En).error_message("is required"),
            "is required"
        );
        assert_eq!(zh.field("email"), "电子邮箱");
        assert_eq!(zh.field("unknown_field"), "unknown_field");
        assert_eq!(
            Tr::new(Locale::En).t_with("sign_in.throttled", &[("seconds", "42")]),
            "Too many sign-in attempts. Try again in 42 seconds."
        );
    }
}
