//! A scenario's stand-ins for what a mini-app reaches outside, through real
//! guests: HTTP stubs answering the HTTP probe's requests (and recording
//! what it sent), a request no stub matches failing the step with the
//! request and why each stub missed it, a stub for an origin the manifest
//! does not declare refused when the file is read, a request to an
//! undeclared origin still refused by the gate, a stub's `times`, and the
//! user's location and profile as the identity probe sees them.

use plaza_scenario::{Components, Runner, Scenario, ScenarioResult, render};
use std::path::{Path, PathBuf};

fn runner() -> Runner {
    let mut components = Components::new();
    for f in plaza_test_programs::FIXTURES {
        let dir = Path::new(f.manifest)
            .parent()
            .expect("manifest's directory");
        components = components.with_component(dir, Path::new(f.component));
    }
    Runner::new(components)
        .cache_dir(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plaza-test-cache"))
}

/// A scenario as if in `crates/scenario/tests/`, so `guests/NAME` paths
/// resolve.
fn parse(text: &str) -> Result<Scenario, plaza_scenario::Error> {
    Scenario::parse(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stubs.toml"),
        text,
    )
}

async fn run(text: &str) -> ScenarioResult {
    let scenario = parse(text).unwrap_or_else(|e| panic!("{e}"));
    runner().run(&scenario).await
}

/// The HTTP probe (its manifest declares `http://localhost:1`, where
/// nothing listens).
const HTTP_PROBE: &str = "[[package]]\npath = \"../../test-programs/guests/http-probe\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubs_answer_a_mini_apps_requests_and_record_what_it_sent() {
    let r = run(&format!(
        r#"{HTTP_PROBE}
[[stub]]
name = "hotels"
url = "http://localhost:1/hotels?city=hz"
json = {{ hotels = ["Wulin Garden"] }}
headers = {{ x-stubbed = "yes" }}
times = 2

[[stub]]
name = "book"
method = "POST"
url = "http://localhost:1/bookings/*"
match-body = "xxxx"
status = 201
body = "booked"
times = 1

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Fhotels%3Fcity%3Dhz%26page%3D1"
field = {{ "request 1" = "ok 200 27 bytes", "body 1" = '{{"hotels":["Wulin Garden"]}}' }}
sent = {{ stub = "hotels" }}
audit = [{{ capability = "network", outcome = "allowed", detail = "GET http://localhost:1" }}]

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Fbookings%2Fh1&method=POST&body=6"
field = {{ "request 1" = "ok 201 6 bytes", "body 1" = "booked" }}
sent = {{ stub = "book", contains = "xxxxxx" }}

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Fhotels%3Fcity%3Dhz"
field = {{ "request 1" = "ok 200 27 bytes" }}
"#
    ))
    .await;
    assert!(r.passed(), "{}", render(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_step_expects_its_requests_to_have_sent_is_checked() {
    let r = run(&format!(
        r#"{HTTP_PROBE}
[[stub]]
name = "book"
method = "POST"
url = "http://localhost:1/bookings"
body = "booked"

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Fbookings&method=POST&body=3"
field = {{ "request 1" = "ok 200 6 bytes" }}
sent = {{ stub = "book", contains = "room=R1" }}
"#
    ))
    .await;
    assert!(!r.passed());
    let report = render(&r);
    assert!(
        report.contains(
            r#"expected: a request answered by the stub "book" whose body contains "room=R1""#
        ),
        "{report}"
    );
    assert!(
        report.contains(
            r#"found:    the step's requests: POST http://localhost:1/bookings answered by "book" (POST http://localhost:1/bookings, line 4), body "xxx""#
        ),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_no_stub_matches_fails_the_step_and_the_app_gets_an_error_response() {
    let r = run(&format!(
        r#"{HTTP_PROBE}
[[stub]]
name = "hotels"
url = "http://localhost:1/hotels"
body = "[]"

[[stub]]
method = "POST"
url = "http://localhost:1/rooms"
body = "{{}}"

[[step]]
launch = "/"

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Frooms%3Fcity%3Dhz"
"#
    ))
    .await;
    assert!(!r.passed());
    let f = r.failure.as_ref().expect("a failure");
    assert_eq!(f.step, Some(2), "{}", render(&r));
    let report = render(&r);
    for want in [
        "expected: every request to a stubbed origin to match a stub",
        "found:    GET http://localhost:1/rooms?city=hz matched none of the stubs of its origin",
        r#""hotels" (GET http://localhost:1/hotels, line 4): another path"#,
        "(POST http://localhost:1/rooms, line 9): another method",
        // The mini-app got an error response, shown on its page.
        "request 1: ok 502",
        "no stub of the scenario answers GET http://localhost:1/rooms?city=hz",
    ] {
        assert!(report.contains(want), "no `{want}` in\n{report}");
    }
}

#[test]
fn a_stub_for_an_origin_the_manifest_does_not_declare_is_refused_when_the_file_is_read() {
    let e = parse(&format!(
        "{HTTP_PROBE}\n[[stub]]\nurl = \"https://api.hz.gov.cn/fines\"\nbody = \"\"\n\n[[step]]\nlaunch = \"/\"\n"
    ))
    .expect_err("an undeclared origin")
    .to_string();
    assert!(
        e.ends_with(
            "tests/stubs.toml:4: the stub (GET https://api.hz.gov.cn/fines, line 4) is for `https://api.hz.gov.cn`, an origin no installed mini-app's manifest declares (http://localhost:1): a stub answers only requests the manifest allows"
        ),
        "{e}"
    );
    // Bad stubs name the line and what is wrong.
    let e = parse(&format!(
        "{HTTP_PROBE}\n[[stub]]\nurl = \"http://localhost:1/x\"\nstatus = 700\n\n[[step]]\nlaunch = \"/\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with(
            "tests/stubs.toml:4: `status`: expected an HTTP status from 100 to 599, found 700"
        ),
        "{e}"
    );
    let e = parse(&format!(
        "{HTTP_PROBE}\n[[stub]]\nurl = \"http://localhost:1/x\"\nreply = \"\"\n\n[[step]]\nlaunch = \"/\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("tests/stubs.toml:6: unknown field `reply`"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_an_undeclared_origin_is_still_refused_by_the_gate() {
    let r = run(&format!(
        r#"{HTTP_PROBE}
[[stub]]
url = "http://localhost:1/x"
body = "stubbed"

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A2%2Fx"
text = "denied: the origin `http://localhost:2` is not one the manifest declares"
audit = [{{ capability = "network", outcome = "denied", detail = "GET http://localhost:2" }}]
"#
    ))
    .await;
    assert!(r.passed(), "{}", render(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stub_called_another_number_of_times_fails_the_scenario() {
    let r = run(&format!(
        r#"{HTTP_PROBE}
[[stub]]
name = "hotels"
url = "http://localhost:1/hotels"
body = "[]"
times = 2

[[step]]
launch = "/?url=http%3A%2F%2Flocalhost%3A1%2Fhotels"
field = {{ "request 1" = "ok 200 2 bytes" }}
"#
    ))
    .await;
    assert!(!r.passed());
    assert_eq!(r.steps_passed, 1);
    let report = render(&r);
    for want in [
        "the stubs, after the last step (line 4)",
        r#"expected: the stub "hotels" (GET http://localhost:1/hotels, line 4) called 2 times"#,
        "found:    called 1 time",
    ] {
        assert!(report.contains(want), "no `{want}` in\n{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_location_and_profile_are_what_the_app_sees_with_consent() {
    let r = run(
        r#"
[[package]]
path = "../../test-programs/guests/identity-probe"

[[user]]
id = "ann"
profile = { nickname = "Ann", avatar = "https://img.example.cn/ann.png", location = { latitude = 30.2741, longitude = 120.1551, accuracy-m = 25 } }

[answers]
consent = { profile = "allow", precise-location = "allow", location = "allow" }

[[step]]
launch = "/profile"
field = { profile = "Ann|https://img.example.cn/ann.png" }

[[step]]
tap = "precise-location"
field = { precise-location = "30.274100,120.155100,25.000000" }

[[step]]
tap = "location"
field = { location = "30.270000,120.160000,1000.000000" }

# Another user, who refuses: the probe gets the refusal, not the data.
[[step]]
user = "ben"
answers = { consent = { location = "deny" } }
launch = "/location"
field = { location = "denied: the user refused `location`" }
"#,
    )
    .await;
    assert!(r.passed(), "{}", render(&r));
}
