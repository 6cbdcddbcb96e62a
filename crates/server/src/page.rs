//! A page as JSON: the WIT `page` record, block by block, in a stable
//! schema (`docs/server.md` documents it; `/v1/openapi.json` carries it).
//!
//! ```json
//! {"title": "Obstetrics", "navigation": "push", "blocks": [
//!   {"type": "heading", "text": "Doctors"},
//!   {"type": "item", "title": "Dr. Chen Li", "detail": "Chief physician", "action": "doctor:chen-li"},
//!   {"type": "button", "label": "Book", "action": "book", "style": "primary"}]}
//! ```
//!
//! Every string is data for the phone to show as text, never markup. An
//! image of the package's assets (`asset:NAME`) also gets `src`, the
//! server's URL for it.

use plaza_host::{Navigation, Page};
use serde_json::{Value, json};

/// The page as the client API answers it: [`plaza_host::page::page_json`],
/// with the server's URL for the package's images.
pub fn page_json(page: &Page, app_id: &str) -> Value {
    let mut json =
        plaza_host::page::page_json(page, &|name| format!("/v1/apps/{app_id}/assets/{name}"));
    json["navigation"] = json!(match page.navigation {
        Navigation::Push => "push",
        Navigation::Replace => "replace",
        Navigation::Back => "back",
    });
    json
}

/// The page schema, as JSON Schema for the OpenAPI document.
pub fn page_schema() -> Value {
    let s = |t: &str| json!({"type": "string", "description": t});
    let block = |name: &str, props: Value, required: &[&str]| {
        let mut props = props;
        props["type"] = json!({"const": name});
        let mut req: Vec<&str> = vec!["type"];
        req.extend_from_slice(required);
        json!({"type": "object", "properties": props, "required": req})
    };
    json!({
        "type": "object",
        "required": ["title", "navigation", "blocks"],
        "properties": {
            "title": s("The title, for the navigation bar."),
            "navigation": {"enum": ["push", "replace", "back"], "description": "push: on top of the current page (back returns to it); replace: in its place; back: close the current page and show this one in place of the one below it."},
            "blocks": {"type": "array", "items": {"oneOf": [
                block("heading", json!({"text": s("A section heading.")}), &["text"]),
                block("text", json!({"text": s("A paragraph.")}), &["text"]),
                block("field", json!({"label": s("What the value is."), "value": s("The value.")}), &["label", "value"]),
                block("item", json!({"title": s("The main line."), "detail": s("A second line; empty for none."), "action": {"type": ["string", "null"], "description": "The action a tap sends (`{\"tap\": ACTION}`); null: not tappable."}}), &["title", "detail", "action"]),
                block("button", json!({"label": s("The text on it."), "action": s("The action a tap sends."), "style": {"enum": ["primary", "secondary", "danger"]}}), &["label", "action", "style"]),
                block("input", json!({"form": s("Inputs with the same form make one form; a submit button follows its last input."), "name": s("The field name in the submit event."), "label": s("The label."), "value": s("The starting value."), "required": {"type": "boolean"}, "kind": {"enum": ["text", "multiline", "number", "date", "time", "phone", "email"]}}), &["form", "name", "label", "value", "required", "kind"]),
                block("image", json!({"url": s("`asset:NAME` or an https URL of an origin the manifest declares."), "alt": s("Text for screen readers."), "src": {"type": ["string", "null"], "description": "For asset images, the server's path to fetch it from."}}), &["url", "alt", "src"]),
                block("notice", json!({"text": s("The text."), "level": {"enum": ["info", "success", "warning", "error"]}}), &["text", "level"]),
            ]}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_host::{Block, Button, ButtonStyle, Image, KeyValue};

    #[test]
    fn every_string_is_kept_as_data_and_assets_get_a_server_path() {
        let page = Page {
            title: "<b>t</b>".into(),
            blocks: vec![
                Block::Text("<script>alert(1)</script>".into()),
                Block::Field(KeyValue {
                    label: "a&b".into(),
                    value: "<img src=x>".into(),
                }),
                Block::Button(Button {
                    label: "Pay".into(),
                    action: "pay".into(),
                    style: ButtonStyle::Danger,
                }),
                Block::Image(Image {
                    url: "asset:logo.png".into(),
                    alt: "logo".into(),
                }),
            ],
            navigation: Navigation::Replace,
        };
        let v = page_json(&page, "a.b");
        assert_eq!(v["title"], "<b>t</b>");
        assert_eq!(v["navigation"], "replace");
        assert_eq!(v["blocks"][0]["text"], "<script>alert(1)</script>");
        assert_eq!(v["blocks"][1]["value"], "<img src=x>");
        assert_eq!(v["blocks"][2]["style"], "danger");
        assert_eq!(v["blocks"][3]["src"], "/v1/apps/a.b/assets/logo.png");
    }
}
