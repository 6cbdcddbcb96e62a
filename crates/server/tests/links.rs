//! Links over the client API: `POST /v1/me/links/open` opens the signed-in
//! user's session of a mini-app at a link's page, in either form; a
//! malformed link is 422 and a mini-app that is not installed 404, each
//! the server's typed JSON error.

mod support;

use serde_json::json;
use support::*;

#[test]
fn a_link_opens_the_users_session_at_its_page_and_bad_links_are_typed_errors() {
    let server = TestServer::start(|c| c.link_base = "https://plaza.example.cn/a/".into());
    server.install_hospital();
    let phone = server.phone("li-na");

    let (status, v) = phone.post(
        "/v1/me/links/open",
        json!({"link": "plaza://cn.hz.maternity/dept/obstetrics"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["app_id"], HOSPITAL);
    assert_eq!(v["page"]["title"], "Obstetrics", "{v}");
    // The session is the user's: the next event goes on from that page.
    let doctor = phone.page(json!({"tap": "doctor:chen-li"}));
    assert_eq!(doctor["title"], "Dr. Chen Li", "{doctor}");

    // The operator's https form.
    let (status, v) = phone.post(
        "/v1/me/links/open",
        json!({"link": "https://plaza.example.cn/a/cn.hz.maternity/checkin?clinic=obstetrics", "locale": "zh-CN"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["page"]["title"], "No booking today", "{v}");

    let (status, v) = phone.post(
        "/v1/me/links/open",
        json!({"link": "plaza://cn.hz.maternity/check in"}),
    );
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["kind"], "malformed-link");
    assert_eq!(v["error"]["problem"], "it has a space (write it as `%20`)");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plaza://APP-ID/PATH?QUERY"),
        "{v}"
    );

    let (status, v) = phone.post(
        "/v1/me/links/open",
        json!({"link": "plaza://cn.sh.renji/checkin"}),
    );
    assert_eq!(status, 404, "{v}");
    assert_eq!(v["error"]["kind"], "not-installed");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cn.sh.renji"),
        "{v}"
    );

    // Each open is in the user's audit log.
    let (_, audit) = phone.get("/v1/me/audit?limit=50");
    let opens = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .expect("entries")
        .iter()
        .filter(|e| e["capability"] == "link.open")
        .count();
    assert_eq!(opens, 4, "{audit}");

    // The route is documented.
    let (_, doc) = phone.get("/v1/openapi.json");
    assert!(doc["paths"]["/v1/me/links/open"]["post"].is_object());
}
