"""West Lake Express: a courier's public account, written with the Plaza SDK
for Python (`plaza_sdk`).

- Track a parcel by its number: where it has been, on the host's clock
  (`parcels.py` derives each parcel's route from its number).
- "Tell me when it moves": the customer accepts the `parcel-moved` template
  from a tap (long-term, offered to transport publishers); each time a
  tracked parcel moves, a message goes to the customer's inbox. The
  courier's back-end sends them through the publisher API by openid
  (`POST /v1/publisher/messages`) when a scan comes in; this sample, which
  runs without one, also sends them when the customer opens the mini-app or
  refreshes a parcel and it moved since the last message.
- Customer service: the customer writes; the mini-app answers in the
  conversation (`messaging.reply`). A complaint opens a case, answered a
  day later, if the customer's last message is less than 48 hours old; past
  that the host refuses the reply and the answer waits until the customer
  writes again.

Storage: `parcel:<number>` (JSON: `since`, `notify`, `told`), `case:<no>`
(JSON: `parcel`, `opened`, `answered`), `next-case`.
"""

from __future__ import annotations

import datetime
import re
from typing import Optional

import parcels
from plaza_sdk import Denied, HostError, MiniApp, Page
from plaza_sdk import clock, identity, log, messaging, storage

TITLE = "West Lake Express"
TEMPLATE = "parcel-moved"
# A case is answered this long after it was opened.
CASE_ANSWER_MS = 24 * parcels.HOUR_MS
NUMBER = re.compile(r"\bWL\s?\d{10}\b", re.IGNORECASE)
COMPLAINT = ("lost", "damaged", "broken", "missing", "complain")


class Pages(MiniApp):
    title = TITLE

    def on_launch(self, path: str, query: dict[str, str]) -> Page:
        notices = catch_up()
        if path == "/parcel" and "number" in query:
            number = parcels.normalise(query["number"])
            if number is not None and tracked(number) is not None:
                return parcel_page(number, notices)
        if path == "/chat":
            return chat_page(notices)
        return home(notices)

    def on_submit(self, form: str, fields: dict[str, str]) -> Page:
        if form != "track":
            return home().replace()
        typed = fields.get("number", "")
        number = parcels.normalise(typed)
        if number is None:
            return home([("warning", f"`{typed}` is not a West Lake Express number: WL and 10 digits, on your receipt.")]).replace()
        if not parcels.exists(number):
            return home([("error", f"We have no parcel {number}. Check the number on your receipt.")]).replace()
        if tracked(number) is None:
            storage.set_json(f"parcel:{number}", {"since": clock.now_ms(), "notify": "off", "told": 0})
            log.info(f"tracking {number}")
        return parcel_page(number)

    def on_tap(self, action: str) -> Page:
        if action.startswith("parcel:"):
            number = action.removeprefix("parcel:")
            if tracked(number) is not None:
                return parcel_page(number, catch_up()).replace()
        if action.startswith("notify:"):
            return notify(action.removeprefix("notify:"))
        if action.startswith("untrack:"):
            number = action.removeprefix("untrack:")
            storage.delete(f"parcel:{number}")
            return home([("info", f"You stopped tracking {number}.")]).replace()
        if action == "chat":
            return chat_page()
        return home().replace()

    def on_chat(self, text: str, event) -> Page:
        reply = answer(text)
        page = Page("Customer service", "replace").text(f"You: {text}")
        try:
            messaging.reply(reply)
            page.text(f"Us: {reply}")
        except HostError as e:
            page.notice(f"We could not answer: {e}", "error")
        # The customer wrote: the conversation is open again for 48 hours, so
        # the answers still waiting go out now.
        for level, text in answer_cases():
            page.notice(text, level)
        return page


def tracked(number: str) -> Optional[dict]:
    """The tracking record of `number`, or `None` if the customer does not track it."""
    record = storage.get_json(f"parcel:{number}")
    return record if isinstance(record, dict) else None


def parcel_of(number: str, record: dict) -> parcels.Parcel:
    return parcels.journey(number, int(record["since"]), clock.now_ms())


def when(ms: int) -> str:
    """`2026-11-21 07:00` in the host's time zone."""
    offset = clock.now().utcoffset()
    zone = datetime.timezone(offset or datetime.timedelta(0))
    return f"{datetime.datetime.fromtimestamp(ms / 1000, zone):%Y-%m-%d %H:%M}"


def home(notices: list[tuple[str, str]] = ()) -> Page:
    page = Page(TITLE)
    for level, text in notices:
        page.notice(text, level)
    page.heading("Track a parcel")
    # The host refuses a number of the wrong shape before it reaches us.
    page.input(
        "track",
        "number",
        "Tracking number",
        required=True,
        max_length=20,
        pattern=r"(?i)\s*WL\s?[0-9]{10}\s*",
        pattern_hint="WL and 10 digits, as on your receipt (WL1234567895)",
    )
    page.heading("Your parcels")
    numbers = [k.removeprefix("parcel:") for k in storage.keys("parcel:")]
    if not numbers:
        page.text("No parcels tracked yet.")
    for number in numbers:
        record = tracked(number)
        if record is None:
            continue
        last = parcel_of(number, record).last
        page.item(number, f"{last.status}, {last.place}", f"parcel:{number}")
    page.button("Customer service", "chat")
    return page


def parcel_page(number: str, notices: list[tuple[str, str]] = ()) -> Page:
    record = tracked(number) or {"since": clock.now_ms(), "notify": "off"}
    parcel = parcel_of(number, record)
    page = Page(f"Parcel {number}")
    for level, text in notices:
        page.notice(text, level)
    page.field("From", parcel.origin).field("To", parcel.destination)
    page.field("Status", parcel.last.status).field("Where", parcel.last.place)
    page.field("Updated", when(parcel.last.at_ms))
    page.heading("Journey")
    for move in reversed(parcel.moves):
        page.item(move.status, f"{move.place}, {when(move.at_ms)}")
    if not parcel.delivered:
        if record.get("notify", "off") == "off":
            page.button("Tell me when it moves", f"notify:{number}", "primary")
        else:
            page.text("We send you a message when it moves.")
    page.button("Refresh", f"parcel:{number}")
    page.button("Stop tracking", f"untrack:{number}", "danger")
    return page


def notify(number: str) -> Page:
    """Asks the customer to accept the `parcel-moved` template (from this tap)."""
    record = tracked(number)
    if record is None:
        return home().replace()
    answers = messaging.subscribe(TEMPLATE)
    if not messaging.accepted(answers, TEMPLATE):
        return parcel_page(number, [("info", "No messages then. You can turn them on here any time.")]).replace()
    long_term = answers[TEMPLATE] == messaging.Answer.ACCEPTED_LONG_TERM
    record["notify"] = "long-term" if long_term else "once"
    record["told"] = parcel_of(number, record).last.stage
    storage.set_json(f"parcel:{number}", record)
    text = (
        f"We will send you a message each time {number} moves."
        if long_term
        else f"We will send you a message the next time {number} moves."
    )
    return parcel_page(number, [("success", text)]).replace()


def catch_up() -> list[tuple[str, str]]:
    """Sends a `parcel-moved` message for each parcel that moved since the
    last one (to customers who accepted them), and the answers of cases
    that are ready; notices for what the customer should know."""
    for key in storage.keys("parcel:"):
        number = key.removeprefix("parcel:")
        record = tracked(number)
        if record is None or record.get("notify", "off") == "off":
            continue
        parcel = parcel_of(number, record)
        if parcel.last.stage <= int(record.get("told", 0)):
            continue
        try:
            messaging.send(TEMPLATE, parcel=number, status=parcel.last.status, place=parcel.last.place)
            record["told"] = parcel.last.stage
            if record["notify"] == "once" or parcel.delivered:
                record["notify"] = "off"
            log.info(f"told the customer {number} moved: {parcel.last.status}")
        except Denied:
            # No acceptance left (the customer withdrew it in the host).
            record["notify"] = "off"
        except HostError as e:
            # A rate limit, say: the message goes at the next visit.
            log.warn(f"could not tell the customer {number} moved: {e}")
            continue
        storage.set_json(key, record)
    return answer_cases()


def answer(text: str) -> str:
    """Customer service's answer to a message."""
    found = NUMBER.search(text)
    number = parcels.normalise(found.group(0)) if found else None
    if any(word in text.lower() for word in COMPLAINT):
        case = open_case(number)
        return f"We are sorry. We opened case {case} and will answer you here within a day."
    if number is not None:
        record = tracked(number)
        if record is None:
            return f"Track {number} on our home page first: then we can tell you where it is."
        last = parcel_of(number, record).last
        return f"Parcel {number}: {last.status}, {last.place}, {when(last.at_ms)}."
    return "Thank you for your message. Quote your tracking number (WL and 10 digits) for its status; for a lost or damaged parcel, tell us and we open a case."


def open_case(number: Optional[str]) -> str:
    n = storage.get_json("next-case", 0) + 1
    case = f"C{n:04}"
    storage.set_json(f"case:{case}", {"parcel": number, "opened": clock.now_ms(), "answered": False})
    storage.set_json("next-case", n)
    log.info(f"case {case} opened ({identity.openid()})")
    return case


def answer_cases() -> list[tuple[str, str]]:
    """Replies with the answer of each case opened a day ago or more. Past
    48 hours since the customer's last message the host refuses the reply:
    the answer waits, and the customer is told to write again."""
    notices = []
    now = clock.now_ms()
    for key in storage.keys("case:"):
        case = storage.get_json(key)
        if not isinstance(case, dict) or case.get("answered") or now - int(case["opened"]) < CASE_ANSWER_MS:
            continue
        name = key.removeprefix("case:")
        about = f" about {case['parcel']}" if case.get("parcel") else ""
        text = f"Case {name}{about}: we found the parcel at our depot; it will be delivered again tomorrow."
        try:
            messaging.reply(text)
        except Denied:
            notices.append(
                ("warning", f"Our answer to case {name} could not reach your inbox: write to us and we will send it.")
            )
            continue
        case["answered"] = True
        storage.set_json(key, case)
        notices.append(("info", f"We answered case {name}: see your inbox."))
    return notices


def chat_page(notices: list[tuple[str, str]] = ()) -> Page:
    page = Page("Customer service")
    for level, text in notices:
        page.notice(text, level)
    page.text("Write to us here. Quote a tracking number for its status; tell us about a lost or damaged parcel and we open a case.")
    page.text("We answer in your inbox, within 48 hours of your last message.")
    # What the courier's staff look the customer up by (the publisher API's openid).
    page.field("Your customer number", identity.openid())
    for key in storage.keys("case:"):
        case = storage.get_json(key) or {}
        state = "answered" if case.get("answered") else "open"
        page.item(f"Case {key.removeprefix('case:')}", state)
    return page
