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
//! server's URL for it; an image of a file the user gave (`media:ID`) gets
//! `src` `/v1/apps/{app_id}/media/{ID}`, which the server serves to that
//! user alone.

use plaza_host::Page;
use serde_json::{Value, json};

/// The page as the client API answers it: [`plaza_host::page::page_json`],
/// with the server's URL for the package's images.
pub fn page_json(page: &Page, app_id: &str) -> Value {
    let mut json = plaza_host::page::page_json_with(
        page,
        &|name| format!("/v1/apps/{app_id}/assets/{name}"),
        &|id| Some(format!("/v1/apps/{app_id}/media/{id}")),
    );
    json["navigation"] = json!(plaza_host::page::navigation_name(page.navigation));
    json
}

fn s(t: &str) -> Value {
    json!({"type": "string", "description": t})
}

fn block(name: &str, props: Value, required: &[&str]) -> Value {
    let mut props = props;
    props["type"] = json!({"const": name});
    let mut req: Vec<&str> = vec!["type"];
    req.extend_from_slice(required);
    json!({"type": "object", "properties": props, "required": req})
}

/// A list item, alone or in a section.
fn item_schema() -> Value {
    block(
        "item",
        json!({
            "title": s("The main line."),
            "detail": s("A second line; empty for none."),
            "action": {"type": ["string", "null"], "description": "The action a tap sends (`{\"tap\": ACTION}`); null: not tappable."},
            "thumbnail": s("`asset:NAME`, a small image of the package before the text; empty for none."),
            "thumbnail_src": {"type": ["string", "null"], "description": "The server's path to fetch the thumbnail from."},
            "trailing": s("A short value at the item's end (an amount, a status); empty for none."),
        }),
        &[
            "title",
            "detail",
            "action",
            "thumbnail",
            "thumbnail_src",
            "trailing",
        ],
    )
}

/// The page schema, as JSON Schema for the OpenAPI document.
pub fn page_schema() -> Value {
    json!({
        "type": "object",
        "required": ["title", "navigation", "refreshable", "blocks"],
        "properties": {
            "title": s("The title, for the navigation bar."),
            "refreshable": {"type": "boolean", "description": "Whether the user may pull the page down to refresh it (`{\"refresh\": {}}`)."},
            "navigation": {"enum": ["push", "replace", "back"], "description": "push: on top of the current page (back returns to it); replace: in its place; back: close the current page and show this one in place of the one below it."},
            "blocks": {"type": "array", "items": {"oneOf": [
                block("heading", json!({"text": s("A section heading.")}), &["text"]),
                block("text", json!({"text": s("A paragraph.")}), &["text"]),
                block("field", json!({"label": s("What the value is."), "value": s("The value.")}), &["label", "value"]),
                item_schema(),
                block("button", json!({"label": s("The text on it."), "action": s("The action a tap sends."), "style": {"enum": ["primary", "secondary", "danger"]}}), &["label", "action", "style"]),
                block("input", json!({
                    "form": s("Inputs with the same form make one form; a submit button follows its last input."),
                    "name": s("The field name in the submit event."),
                    "label": s("The label."),
                    "value": s("The starting value (a choice: an option's value; a multi-choice: values joined with `,`; a switch: `true` or `false`)."),
                    "required": {"type": "boolean"},
                    "read_only": {"type": "boolean", "description": "Shown but not editable: the host refuses a submission that changes the value."},
                    "kind": {"enum": ["text", "multiline", "number", "date", "time", "phone", "email", "choice", "multi-choice", "switch", "hidden"], "description": "hidden: not shown, submitted with its value."},
                    "display": {"enum": ["radio", "picker", null], "description": "For a choice: radio buttons (five options or fewer) or a picker."},
                    "options": {"type": "array", "items": {"type": "object", "required": ["value", "label"], "properties": {"value": s("What is submitted."), "label": s("What the user sees.")}}, "description": "A choice's or multi-choice's options, in order."},
                    "min": {"type": ["string", "null"], "description": "The smallest value of a number, date (YYYY-MM-DD) or time (HH:MM)."},
                    "max": {"type": ["string", "null"], "description": "The largest value, as min."},
                    "max_length": {"type": ["integer", "null"], "description": "The most characters."},
                    "pattern": {"type": ["string", "null"], "description": "A regular expression the whole value must match (checked by the host)."},
                    "pattern_hint": s("What a value fitting the pattern looks like; empty for none."),
                }), &["form", "name", "label", "value", "required", "read_only", "kind", "display", "options", "min", "max", "max_length", "pattern", "pattern_hint"]),
                block("image", json!({"url": s("`asset:NAME`, `media:ID` (a photo the user gave the mini-app) or an https URL of an origin the manifest declares."), "alt": s("Text for screen readers."), "src": {"type": ["string", "null"], "description": "For asset images, the server's path to fetch it from; for `media:ID`, `/v1/apps/{app_id}/media/{ID}`, served to the signed-in user alone."}}), &["url", "alt", "src"]),
                block("notice", json!({"text": s("The text."), "level": {"enum": ["info", "success", "warning", "error"]}}), &["text", "level"]),
                block("section", json!({"heading": s("The section's heading; empty for none."), "items": {"type": "array", "items": item_schema()}, "load_more": {"type": ["string", "null"], "description": "The action `{\"load_more\": ACTION}` sends when the user reaches the section's end; null: nothing more."}}), &["heading", "items", "load_more"]),
            ]}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_host::{Block, Button, ButtonStyle, Image, KeyValue, Navigation};

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
            refreshable: false,
        };
        let v = page_json(&page, "a.b");
        assert_eq!(v["title"], "<b>t</b>");
        assert_eq!(v["navigation"], "replace");
        assert_eq!(v["blocks"][0]["text"], "<script>alert(1)</script>");
        assert_eq!(v["blocks"][1]["value"], "<img src=x>");
        assert_eq!(v["blocks"][2]["style"], "danger");
        assert_eq!(v["blocks"][3]["src"], "/v1/apps/a.b/assets/logo.png");
    }
    /// Every block and input of the `pages` contract, as the client API
    /// answers it, with every key the schema requires.
    #[test]
    fn every_new_block_has_its_json_and_the_schema_requires_what_it_carries() {
        use plaza_host::{ChoiceOption, Constraints, Input, InputKind, ListItem, Section};
        let item = |title: &str, thumbnail: &str| ListItem {
            title: title.into(),
            detail: String::new(),
            action: Some(format!("slot:{title}")),
            thumbnail: thumbnail.into(),
            trailing: "3 left".into(),
        };
        let page = Page {
            title: "Slots".into(),
            blocks: vec![
                Block::Section(Section {
                    heading: "Mon 7 Dec".into(),
                    items: vec![item("09:00", "asset:dot.png"), item("10:00", "")],
                    load_more: Some("more:mon".into()),
                }),
                Block::Input(Input {
                    form: "f".into(),
                    name: "currency".into(),
                    kind: InputKind::Choice,
                    label: "Currency".into(),
                    value: "USD".into(),
                    required: true,
                    read_only: false,
                    options: vec![ChoiceOption {
                        value: "USD".into(),
                        label: "US dollar".into(),
                    }],
                    constraints: Constraints {
                        min: None,
                        max: None,
                        max_length: Some(3),
                        pattern: None,
                        pattern_hint: String::new(),
                    },
                }),
            ],
            navigation: Navigation::Push,
            refreshable: true,
        };
        let v = page_json(&page, "a.b");
        assert_eq!(v["refreshable"], true);
        assert_eq!(v["navigation"], "push");
        let section = &v["blocks"][0];
        assert_eq!(section["type"], "section");
        assert_eq!(section["load_more"], "more:mon");
        assert_eq!(
            section["items"][0]["thumbnail_src"],
            "/v1/apps/a.b/assets/dot.png"
        );
        assert_eq!(section["items"][1]["thumbnail_src"], Value::Null);
        let input = &v["blocks"][1];
        assert_eq!(input["display"], "radio");
        assert_eq!(input["options"][0]["label"], "US dollar");
        assert_eq!(input["max_length"], 3);
        // What the schema requires of each block, the JSON carries.
        let schema = page_schema();
        let blocks = schema["properties"]["blocks"]["items"]["oneOf"]
            .as_array()
            .unwrap();
        for block in v["blocks"].as_array().unwrap() {
            let kind = block["type"].as_str().unwrap();
            let s = blocks
                .iter()
                .find(|s| s["properties"]["type"]["const"] == kind)
                .unwrap_or_else(|| panic!("no schema for {kind}"));
            for key in s["required"].as_array().unwrap() {
                let key = key.as_str().unwrap();
                assert!(block.get(key).is_some(), "{kind} lacks {key}: {block}");
            }
        }
        for key in schema["required"].as_array().unwrap() {
            assert!(
                v.get(key.as_str().unwrap()).is_some(),
                "the page lacks {key}"
            );
        }
    }
}
