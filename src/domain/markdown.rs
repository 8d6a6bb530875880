//! Lesson Markdown, rendered to HTML that is safe to serve: CommonMark (with
//! tables) by pulldown-cmark, then every tag, attribute and URL scheme that
//! could run something is removed by ammonia's allow-list (scripts and
//! styles with their content, `on…` handlers, `javascript:` links, iframes,
//! forms). Rendering happens once, when a lesson is written; pages serve the
//! stored result.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

use crate::domain::banks::line_of;

/// A lesson's Markdown, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    /// Images the lesson takes from its course's folder (`images/x.png`),
    /// with the line that names them, so an import can check they exist.
    pub local_images: Vec<(String, usize)>,
}

/// Where a course's own images are served from.
pub fn media_url(course_key: &str, name: &str) -> String {
    format!("/media/{course_key}/{name}")
}

/// A relative image path (`images/x.png` or `x.png`) names a file of the
/// course; anything with a scheme or a leading `/` is left as written.
fn local_image(dest: &str) -> Option<String> {
    if dest.contains(':') || dest.starts_with('/') || dest.starts_with('#') || dest.is_empty() {
        return None;
    }
    let name = dest.strip_prefix("./").unwrap_or(dest);
    let name = name.strip_prefix("images/").unwrap_or(name);
    Some(name.to_owned())
}

/// Renders lesson Markdown for the course `course_key`.
pub fn render(course_key: &str, markdown: &str) -> Rendered {
    let mut local_images = Vec::new();
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options)
        .into_offset_iter()
        .map(|(event, range)| match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = match local_image(&dest_url) {
                    Some(name) => {
                        let url = media_url(course_key, &name);
                        local_images.push((name, line_of(markdown, range.start)));
                        CowStr::from(url)
                    }
                    None => dest_url,
                };
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            other => other,
        })
        .collect();
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, events.into_iter());
    Rendered {
        html: sanitise(&unsafe_html),
        local_images,
    }
}

/// Removes everything that could run or restyle the page, keeping ordinary
/// document markup. Links to other sites open safely (`rel="noopener
/// noreferrer"`).
pub fn sanitise(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ordinary_markdown() {
        let r = render("c", "# 标题\n\n**粗体** and a [link](https://who.int).\n");
        assert!(r.html.contains("<h1>标题</h1>"), "{}", r.html);
        assert!(r.html.contains("<strong>粗体</strong>"));
        assert!(r.html.contains(r#"href="https://who.int""#));
        assert!(r.html.contains("noopener"));
    }

    #[test]
    fn renders_tables() {
        let r = render("c", "| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(r.html.contains("<td>1</td>"));
    }

    #[test]
    fn removes_scripts_with_their_content() {
        let r = render("c", "before\n\n<script>alert('x')</script>\n\nafter\n");
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("alert"), "{}", r.html);
        assert!(r.html.contains("after"));
    }

    #[test]
    fn removes_event_handlers_and_javascript_urls() {
        let md = "<img src=\"x.png\" onerror=\"alert(1)\">\n\n<a href=\"javascript:alert(2)\" onclick=\"alert(3)\">x</a>\n\n[y](javascript:alert(4))\n";
        let r = render("c", md);
        for bad in ["onerror", "onclick", "javascript:", "alert"] {
            assert!(!r.html.contains(bad), "{bad} left in {}", r.html);
        }
    }

    #[test]
    fn removes_iframes_styles_and_forms() {
        let md = "<iframe src=\"https://evil.example\"></iframe>\n<style>body{display:none}</style>\n<form action=\"/x\"><input name=a></form>\n<p style=\"color:red\">red</p>\n";
        let r = render("c", md);
        for bad in [
            "<iframe",
            "<style",
            "display:none",
            "<form",
            "<input",
            "style=",
        ] {
            assert!(!r.html.contains(bad), "{bad} left in {}", r.html);
        }
        assert!(r.html.contains("red"));
    }

    #[test]
    fn local_images_point_at_the_course_media_with_their_line() {
        let r = render(
            "fever",
            "text\n\n![体温计](images/thermometer.png)\n\n![who](https://who.int/a.png)\n",
        );
        assert!(
            r.html.contains(r#"src="/media/fever/thermometer.png""#),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"src="https://who.int/a.png""#));
        assert_eq!(r.local_images, vec![("thermometer.png".to_owned(), 3)]);
    }
}
