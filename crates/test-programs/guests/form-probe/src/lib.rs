//! Expects the host to check every input's kind and constraints before a submission reaches it, to keep hidden and read-only values, and to deliver "load more", refresh and the launch locale; shows every new block.
//!
//! A launch at `/` (or any path but `/list`) answers the page "Form probe"
//! with the field "Locale" (the launch's locale, `-` for none) and the form
//! `probe`, in order:
//!
//! - `name` (text, required, at most 10 characters), `id` (text, pattern
//!   `[0-9]{17}[0-9X]`, hint "an 18-character ID number such as
//!   11010519491231002X"), `plate` (text, pattern `[浙沪][A-Z][A-Z0-9]{5}`,
//!   no hint);
//! - `age` (number, 0 to 150), `day` (date, 2026-12-04 to 2026-12-17),
//!   `at` (time, 08:00 to 17:30);
//! - `currency` (choice of CNY, USD, EUR: radio buttons), `city` (choice of
//!   seven cities: a picker), `extras` (multi-choice of `sms`, `email`,
//!   `wechat`), `notify` (switch, on);
//! - `token` (hidden, `t-123`), `ref` (text, read-only, `REF-9`).
//!
//! A submission answers "Received": one field per submitted value, named
//! after the field, in the order received (the host's order).
//!
//! A launch at `/list` answers the refreshable page "List": the section
//! "Today" (items `Dr. Chen Li` with thumbnail `asset:dot.png`, trailing
//! `3 left`, action `slot:1`, and `Dr. Wang Fang`, trailing `Full`, no
//! action) with load-more `more:today`; each `load-more` adds two items
//! `Extra N` to that section (navigation replace), at most two times
//! (then the section has no load-more); each `refresh` sets the field
//! "Refreshed" to the count of refreshes.

use plaza_sdk::{App, Block, Event, InputKind, ListItem, Page};

#[derive(Default)]
struct Probe {
    extra: u32,
    refreshed: u32,
}

fn form(locale: &str) -> Page {
    Page::builder("Form probe")
        .field("Locale", if locale.is_empty() { "-" } else { locale })
        .input("probe", "name", InputKind::Text, "Name")
        .required()
        .max_length(10)
        .input("probe", "id", InputKind::Text, "ID number")
        .pattern(
            "[0-9]{17}[0-9X]",
            "an 18-character ID number such as 11010519491231002X",
        )
        .input("probe", "plate", InputKind::Text, "Plate")
        .pattern("[浙沪][A-Z][A-Z0-9]{5}", "")
        .input("probe", "age", InputKind::Number, "Age")
        .min("0")
        .max("150")
        .input("probe", "day", InputKind::Date, "Day")
        .min("2026-12-04")
        .max("2026-12-17")
        .input("probe", "at", InputKind::Time, "Time")
        .min("08:00")
        .max("17:30")
        .choice(
            "probe",
            "currency",
            "Currency",
            [("CNY", "Yuan"), ("USD", "US dollar"), ("EUR", "Euro")],
        )
        .choice(
            "probe",
            "city",
            "City",
            [
                ("hz", "Hangzhou"),
                ("sh", "Shanghai"),
                ("bj", "Beijing"),
                ("gz", "Guangzhou"),
                ("sz", "Shenzhen"),
                ("cd", "Chengdu"),
                ("wh", "Wuhan"),
            ],
        )
        .multi_choice(
            "probe",
            "extras",
            "Reminders",
            [("sms", "SMS"), ("email", "E-mail"), ("wechat", "WeChat")],
        )
        .switch("probe", "notify", "Notify me", true)
        .hidden("probe", "token", "t-123")
        .input("probe", "ref", InputKind::Text, "Reference")
        .value("REF-9")
        .read_only()
        .build()
}

impl Probe {
    fn list(&self) -> Page {
        let mut items = vec![
            ListItem::new("Dr. Chen Li")
                .detail("Obstetrics")
                .thumbnail("asset:dot.png")
                .trailing("3 left")
                .action("slot:1"),
            ListItem::new("Dr. Wang Fang").trailing("Full"),
        ];
        for n in 1..=self.extra * 2 {
            items.push(ListItem::new(format!("Extra {n}")));
        }
        let mut page = Page::builder("List")
            .field("Refreshed", self.refreshed.to_string())
            .section("Today", items);
        if self.extra < 2 {
            page = page.load_more("more:today");
        }
        page.refreshable().replace().build()
    }
}

impl App for Probe {
    fn handle(&mut self, event: Event) -> Page {
        match event {
            Event::Launch(launch) if launch.path == "/list" => {
                self.extra = 0;
                let mut page = self.list();
                page.navigation = plaza_sdk::Navigation::Push;
                page
            }
            Event::Launch(launch) => form(&launch.locale),
            Event::LoadMore(action) if action == "more:today" => {
                self.extra += 1;
                self.list()
            }
            Event::Refresh => {
                self.refreshed += 1;
                self.list()
            }
            Event::Submit(submit) => Page::builder("Received")
                .blocks(submit.fields.iter().map(|f| {
                    Block::Field(plaza_sdk::KeyValue {
                        label: f.name.clone(),
                        value: f.value.clone(),
                    })
                }))
                .build(),
            _ => Page::builder("Form probe").text("Nothing to do").build(),
        }
    }
}

plaza_sdk::export_app!(Probe);
