//! Photos and files over the client API: a mini-app's media prompt reaches
//! the phone, which answers it by uploading the file's bytes (or cancels);
//! the page then shows the file through a URL served to that user alone.

mod support;

use serde_json::{Value, json};
use support::*;

const APP: &str = "test.plaza.media-probe";

/// Installs the media probe (signed by its registered publisher).
fn install_probe(server: &TestServer) {
    install_fixture(server, &plaza_test_programs::MEDIA_PROBE);
}

/// The media prompt a tap on `action` raises.
fn media_prompt(phone: &Phone, action: &str) -> Value {
    prompt_after_tap(phone, APP, action, "media")
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.resize(len - 2, 0);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// GETs `path` as `phone`: the status, the content type and the bytes.
fn get_bytes(phone: &Phone, path: &str) -> (u16, String, Vec<u8>) {
    let agent: ureq::Agent = fresh_connections()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!("{}{path}", phone.base))
        .header("authorization", &format!("Bearer {}", phone.token))
        .call()
        .expect("GET");
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = r.body_mut().read_to_vec().unwrap_or_default();
    (status, kind, bytes)
}

#[test]
fn a_media_prompt_is_answered_by_uploading_the_file() {
    let server = TestServer::start(|_| {});
    install_probe(&server);
    let phone = server.phone("li-na");
    let other = server.phone("wang-fang");

    let prompt = media_prompt(&phone, "image");
    assert_eq!(prompt["purpose"], "The ID card, front side");
    assert_eq!(prompt["kinds"], json!(["jpeg", "png"]));
    assert_eq!(prompt["accept"], "image/jpeg,image/png");
    assert_eq!(prompt["max_bytes"], 2048);
    let id = prompt["id"].as_str().unwrap();
    let upload = prompt["upload"].as_str().unwrap().to_string();
    assert_eq!(upload, format!("/v1/prompts/{id}/file"));
    // Another user cannot answer it.
    let (s, v) = other.send_bytes(&format!("{upload}?name=x.jpg"), &jpeg(100));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("no-such-prompt")),
        "{v}"
    );

    // The user's phone uploads the photo: the mini-app's page shows it.
    let card = jpeg(700);
    let (s, v) = phone.send_bytes(&format!("{upload}?name=card.jpg"), &card);
    assert_eq!(s, 200, "{v}");
    let page = &v["page"];
    assert_eq!(field(page, "Result").as_deref(), Some("ok"), "{page}");
    assert_eq!(field(page, "Name").as_deref(), Some("card.jpg"));
    let file_id = field(page, "Id").unwrap();
    let image = blocks(page, "image")
        .next()
        .expect("an image block")
        .clone();
    assert_eq!(image["url"], format!("media:{file_id}"));
    let src = image["src"].as_str().unwrap().to_string();
    assert_eq!(src, format!("/v1/apps/{APP}/media/{file_id}"));
    // Served to her, as what it is; to nobody else.
    assert_eq!(
        get_bytes(&phone, &src),
        (200, "image/jpeg".to_string(), card)
    );
    assert_eq!(get_bytes(&other, &src).0, 404);
    // Answered once.
    let (s, v) = phone.send_bytes(&format!("{upload}?name=card.jpg"), &jpeg(100));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (409, Some("prompt-answered")),
        "{v}"
    );

    // A text file named like a photo: refused by the host, the mini-app says why.
    let prompt = media_prompt(&phone, "image");
    let upload = prompt["upload"].as_str().unwrap();
    let (s, v) = phone.send_bytes(&format!("{upload}?name=photo.jpg"), b"not a photo at all");
    assert_eq!(s, 200, "{v}");
    let result = field(&v["page"], "Result").unwrap();
    assert!(result.starts_with("wrong-type:"), "{result}");

    // Over the mini-app's 2,048-byte cap: refused with the reason.
    let prompt = media_prompt(&phone, "image");
    let upload = prompt["upload"].as_str().unwrap();
    let (s, v) = phone.send_bytes(&format!("{upload}?name=big.jpg"), &jpeg(4000));
    assert_eq!(s, 200, "{v}");
    let result = field(&v["page"], "Result").unwrap();
    assert!(
        result.starts_with("too-large:") && result.contains("2048"),
        "{result}"
    );

    // Closing the picker: the mini-app gets `cancelled`.
    let prompt = media_prompt(&phone, "image");
    let (s, v) = phone.answer(prompt["id"].as_str().unwrap(), "cancel");
    assert_eq!(s, 200, "{v}");
    assert_eq!(field(&v["page"], "Result").as_deref(), Some("cancelled"));

    // A payment or consent answer does not fit a media prompt, nor a file
    // another kind of prompt.
    let prompt = media_prompt(&phone, "image");
    let (s, v) = phone.answer(prompt["id"].as_str().unwrap(), "allow");
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (400, Some("bad-answer")),
        "{v}"
    );
}
