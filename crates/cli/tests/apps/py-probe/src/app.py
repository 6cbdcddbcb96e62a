"""Probes `plaza_sdk`'s pages in a real host: each page shows what the SDK
made or what the host let through, which the scenario checks."""

from __future__ import annotations

from plaza_sdk import Item, MiniApp, Page, log

# Twelve cities: more than five options, so the host shows a picker.
CITIES = {
    "bj": "Beijing",
    "sh": "Shanghai",
    "hz": "Hangzhou",
    "gz": "Guangzhou",
    "sz": "Shenzhen",
    "cd": "Chengdu",
    "wh": "Wuhan",
    "xa": "Xi'an",
    "nj": "Nanjing",
    "cq": "Chongqing",
    "tj": "Tianjin",
    "sy": "Shenyang",
}


class Pages(MiniApp):
    title = "Python probe"

    def home(self) -> Page:
        return Page(self.title).button("A form", "form")

    def on_launch(self, path: str, query: dict[str, str]) -> Page:
        return self.home().field("Locale", self.event.locale or "(none)")

    def on_tap(self, action: str) -> Page:
        if action == "form":
            return form()
        return self.home().replace()

    def on_submit(self, form_id: str, fields: dict[str, str]) -> Page:
        log.info(f"submitted {form_id}")
        return (
            Page("Submitted", "replace")
            .field("City", fields.get("city", ""))
            .field("Room", fields.get("room") or "(none)")
            .field("Extras", " + ".join(self.event.choices("extras")) or "(none)")
            .field("Invoice", fields.get("invoice", ""))
            .field("Token", fields.get("token", ""))
            .field("Guest", fields.get("guest", ""))
            .field("Plate", fields.get("plate") or "(none)")
            .field("Nights", fields.get("nights", ""))
            .button("A form", "form")
        )

    def on_load_more(self, action: str) -> Page:
        return form(f"Loaded: {action}")

    def on_refresh(self) -> Page:
        return form("Loaded: refreshed")


def form(notice: str = "") -> Page:
    """The inputs and list features of plaza:host@0.1.1, through `Page`."""
    page = Page("Form", "replace").refreshable()
    if notice:
        page.notice(notice)
    return (
        page.choice("booking", "city", "City", CITIES, value="hz", required=True)
        .choice("booking", "room", "Room", [("single", "Single"), ("double", "Double")])
        .multi_choice(
            "booking",
            "extras",
            "Extras",
            [("breakfast", "Breakfast"), ("parking", "Parking"), ("late", "Late check-out")],
            chosen=["breakfast"],
        )
        .switch("booking", "invoice", "Send an invoice", on=True)
        .hidden("booking", "token", "t-42")
        .input("booking", "guest", "Guest", value="Li Na", read_only=True)
        .input(
            "booking",
            "plate",
            "Plate number",
            pattern="[浙沪][A-Z][A-Z0-9]{5}",
            pattern_hint="a plate number such as 浙A12345",
        )
        .input("booking", "nights", "Nights", "number", "1", required=True, min="1", max="14")
        .input("booking", "note", "Note", "multiline", max_length=20)
        .section(
            "Rooms",
            [
                Item("Single", "One bed", "room:single", trailing="CNY 300.00"),
                Item("Double", trailing="Full"),
            ],
            load_more="more:rooms",
        )
        .item("Suite", "Top floor", trailing="CNY 900.00")
    )
