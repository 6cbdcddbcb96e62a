"""{{display_name}}: a Plaza mini-app.

The host delivers one event at a time (a launch, a tap, a form submit) and
shows the page `handle` answers. Attributes of `App` live as long as the
session; what must survive it goes to `storage`.

How WIT looks here (componentize-py; the bindings are in .plaza/bindings, made
by `plaza build` from the world plaza.toml declares): a variant case is a
dataclass (`app.Event_Tap(value=...)`), an enum an `Enum`, a record a
dataclass with snake_case fields, an option a value or `None`, list<u8>
`bytes`; a host call that returns an error raises `Err`, with the WIT error
in `e.value` (`types.Error_Denied(value='...')`).
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import app
from wit_world.imports import log, storage

# Notes are stored under `note:<number>`; the visit count under `visits`.
NOTE_PREFIX = "note:"


class App(exports.App):
    # Whether this session counted its visit yet (memory of the session).
    counted = False

    def handle(self, event: app.Event) -> app.Page:
        if isinstance(event, app.Event_Launch):
            if not App.counted:
                App.counted = True
                try:
                    storage.set("visits", str(read_number("visits") + 1).encode())
                except Err as e:
                    log.write(log.Level.WARN, f"could not count the visit: {error_text(e)}")
            return page(home())
        if isinstance(event, app.Event_Submit) and event.value.form == "note":
            text = next((f.value for f in event.value.fields if f.name == "text"), "").strip()
            if not text:
                return page(home(notice(app.NoticeLevel.WARNING, "Type a note first.")), app.Navigation.REPLACE)
            number = read_number("next-note") + 1
            try:
                storage.set(f"{NOTE_PREFIX}{number:06}", text.encode())
                storage.set("next-note", str(number).encode())
                return page(home(notice(app.NoticeLevel.SUCCESS, "Saved your note.")), app.Navigation.REPLACE)
            except Err as e:
                # A denial is data, not a crash: show it (a full quota, say).
                return page(
                    home(notice(app.NoticeLevel.ERROR, f"Your note was not saved: {error_text(e)}")),
                    app.Navigation.REPLACE,
                )
        if isinstance(event, app.Event_Tap) and event.value == "clear":
            keys = storage.list_keys(NOTE_PREFIX, 1000)
            for key in keys:
                storage.delete(key)
            log.write(log.Level.INFO, f"cleared {len(keys)} notes")
            return page(home(notice(app.NoticeLevel.INFO, "Your notes are cleared.")), app.Navigation.REPLACE)
        return page(home(), app.Navigation.REPLACE)


def home(*first: app.Block) -> list[app.Block]:
    """The home page's blocks: the visit count, the notes, a form to add one."""
    blocks: list[app.Block] = [*first, app.Block_Field(app.KeyValue("Visits", str(read_number("visits"))))]
    blocks.append(app.Block_Heading("Your notes"))
    keys = storage.list_keys(NOTE_PREFIX, 1000)
    if not keys:
        blocks.append(app.Block_Text("No notes yet."))
    for key in keys:
        value = storage.get(key)
        if value is not None:
            blocks.append(app.Block_Item(app.ListItem(value.decode(), "", None)))
    blocks.append(app.Block_Input(app.Input("note", "text", app.InputKind.TEXT, "New note", "", True)))
    if read_number("next-note") > 0:
        blocks.append(app.Block_Button(app.Button("Clear notes", "clear", app.ButtonStyle.DANGER)))
    return blocks


def page(blocks: list[app.Block], navigation: app.Navigation = app.Navigation.PUSH) -> app.Page:
    return app.Page("{{display_name}}", blocks, navigation)


def notice(level: app.NoticeLevel, text: str) -> app.Block:
    return app.Block_Notice(app.Notice(level, text))


def read_number(key: str) -> int:
    """A number kept in storage as text; 0 when absent."""
    try:
        value = storage.get(key)
        return int(value.decode()) if value is not None else 0
    except (Err, ValueError):
        return 0


def error_text(e: Err) -> str:
    """The message of a host error (`e.value.value`)."""
    return str(getattr(e.value, "value", e.value))
