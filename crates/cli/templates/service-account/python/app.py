"""{{display_name}}: a public service account on Plaza.

Three ways to reach a citizen's inbox, each with the host's rules: a
subscription message (the user accepts a template from a tap, then the
account may send it), a broadcast to the account's followers (at most four a
month each), and a reply to a user's own message (within 48 hours).

A host call that returns an error raises `Err`, with the WIT error in
`e.value` (`types.Error_LimitExceeded(value='...')`).
"""

import datetime

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import app
from wit_world.imports import clock, log, messaging, types

REMINDER = "appointment-reminder"


class App(exports.App):
    def handle(self, event: app.Event) -> app.Page:
        if isinstance(event, app.Event_Launch):
            return page("{{display_name}}", home())
        if isinstance(event, app.Event_Tap) and event.value == "remind":
            return remind()
        if isinstance(event, app.Event_Tap) and event.value == "bulletin":
            return bulletin()
        if isinstance(event, app.Event_Chat):
            return answer(event.value.text)
        return page("{{display_name}}", home(), app.Navigation.REPLACE)


def home() -> list[app.Block]:
    return [
        app.Block_Text("Opening hours: Monday to Friday, 9:00 to 17:00."),
        button("Remind me of my appointment", "remind", app.ButtonStyle.PRIMARY),
        app.Block_Text("Write to us any time: we answer within two days."),
        # In a real account, broadcasts come from your staff's tools; this
        # button sends one so that you can see it reach the followers.
        button("Send this week's bulletin to followers", "bulletin"),
    ]


def remind() -> app.Page:
    """Asks the user to accept the reminder template (only from a tap), then sends the first reminder."""
    try:
        answers = messaging.subscribe([REMINDER])
    except Err as e:
        return reminders(notice(app.NoticeLevel.ERROR, f"Reminders are not available: {error_text(e)}"))
    accepted = any(
        a.template_id == REMINDER and a.answer != messaging.SubscriptionAnswer.REJECTED for a in answers
    )
    if not accepted:
        return reminders(notice(app.NoticeLevel.INFO, "No reminders then. You can turn them on here any time."))
    fields = [
        types.FieldValue("service", "Residence permit renewal"),
        types.FieldValue("time", tomorrow_at_ten()),
    ]
    try:
        messaging.send(REMINDER, fields)
        return reminders(notice(app.NoticeLevel.SUCCESS, "Done: your reminder is in your inbox."))
    except Err as e:
        return reminders(notice(app.NoticeLevel.ERROR, f"The reminder was not sent: {error_text(e)}"))


def reminders(block: app.Block) -> app.Page:
    return page("Reminders", [block], app.Navigation.REPLACE)


def bulletin() -> app.Page:
    """Sends the weekly bulletin to every follower of the account."""
    try:
        r = messaging.broadcast(
            "This week at {{display_name}}", "Passport photos are taken on site from Monday."
        )
    except Err as e:
        if isinstance(e.value, types.Error_LimitExceeded):
            block = notice(app.NoticeLevel.WARNING, e.value.value)
        else:
            block = notice(app.NoticeLevel.ERROR, f"The bulletin was not sent: {error_text(e)}")
        return page("Bulletin", [block], app.Navigation.REPLACE)
    log.write(log.Level.INFO, f"bulletin: {r.delivered} delivered, {r.skipped} skipped")
    return page(
        "Bulletin",
        [field("Delivered", str(r.delivered)), field("Skipped (monthly quota reached)", str(r.skipped))],
        app.Navigation.REPLACE,
    )


def answer(question: str) -> app.Page:
    """Answers a citizen's message in the conversation."""
    if "open" in question.lower():
        reply = "We are open Monday to Friday, 9:00 to 17:00."
    else:
        reply = "Thank you for your message: a member of staff will answer you here."
    blocks: list[app.Block] = [app.Block_Text(f"You: {question}")]
    try:
        messaging.reply(reply)
        blocks.append(app.Block_Text(f"Us: {reply}"))
    except Err as e:
        blocks.append(notice(app.NoticeLevel.ERROR, f"We could not answer: {error_text(e)}"))
    return page("Ask us", blocks, app.Navigation.REPLACE)


def tomorrow_at_ten() -> str:
    """Tomorrow at 10:00 on the host's clock, as `YYYY-MM-DD 10:00`."""
    now = clock.now()
    local_ms = now.unix_ms + now.utc_offset_minutes * 60_000 + 86_400_000
    day = datetime.datetime.fromtimestamp(local_ms / 1000, datetime.timezone.utc)
    return f"{day:%Y-%m-%d} 10:00"


def page(title: str, blocks: list[app.Block], navigation: app.Navigation = app.Navigation.PUSH) -> app.Page:
    return app.Page(title, blocks, navigation)


def field(label: str, value: str) -> app.Block:
    return app.Block_Field(app.KeyValue(label, value))


def button(label: str, action: str, style: app.ButtonStyle = app.ButtonStyle.SECONDARY) -> app.Block:
    return app.Block_Button(app.Button(label, action, style))


def notice(level: app.NoticeLevel, text: str) -> app.Block:
    return app.Block_Notice(app.Notice(level, text))


def error_text(e: Err) -> str:
    """The message of a host error (`e.value.value`)."""
    return str(getattr(e.value, "value", e.value))
