//! Kefu's web front ends as the binary carries them: the widget loader (`/widget.js`), the widget's chat page
//! (`/widget/`) and the agents' workspace (`/app/`), built from web/ by this crate's build script.

use std::borrow::Cow;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
struct Dist;

/// A file to serve: its bytes, content type, and how long browsers may keep it.
pub struct Asset {
    pub body: Cow<'static, [u8]>,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// The built file at `path` (relative to web/dist, e.g. `widget.js` or `widget/index.html`).
pub fn asset(path: &str) -> Option<Asset> {
    let file = Dist::get(path)?;
    let content_type = match path.rsplit('.').next().unwrap_or_default() {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    };
    // Files under assets/ carry a content hash in their name; everything else may change with any release.
    // Pages are revalidated on every load, so a new release's hashed assets are picked up at once.
    let cache_control = if path.contains("/assets/") {
        "public, max-age=31536000, immutable"
    } else if content_type.starts_with("text/html") {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    Some(Asset {
        body: file.data,
        content_type,
        cache_control,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_is_embedded_with_its_types_and_cache_rules() {
        let loader = asset("widget.js").expect("the loader is built into the binary");
        assert_eq!(loader.content_type, "text/javascript; charset=utf-8");
        assert_eq!(loader.cache_control, "public, max-age=300");
        let page = asset("widget/index.html").expect("the chat page is built into the binary");
        let html = String::from_utf8_lossy(&page.body);
        let script = html
            .split("src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a script tag");
        let hashed = asset(script.trim_start_matches('/')).expect("the chat script it names is embedded");
        assert_eq!(hashed.cache_control, "public, max-age=31536000, immutable");
        assert!(asset("../Cargo.toml").is_none());
    }
}
