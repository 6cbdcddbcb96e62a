"""Pages and events: a builder for the page a mini-app answers, and the
event it answers, read without `isinstance` chains.

    page = Page("Parcel 1234").field("Status", "In transit").button("Refresh", "refresh")
    return page.build()

Pages are data, never markup: the host renders each block natively and
refuses a page over its size cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Literal, Optional

from wit_world.exports import app

__all__ = ["Page", "Event", "Navigation", "Level", "Style", "Kind"]

#: How the host shows a page: on top (`push`), in place (`replace`), or in
#: place of the page below (`back`).
Navigation = Literal["push", "replace", "back"]
#: A notice's severity.
Level = Literal["info", "success", "warning", "error"]
#: A button's look.
Style = Literal["primary", "secondary", "danger"]
#: What an input accepts.
Kind = Literal["text", "multiline", "number", "date", "time", "phone", "email"]

_NAVIGATION = {
    "push": app.Navigation.PUSH,
    "replace": app.Navigation.REPLACE,
    "back": app.Navigation.BACK,
}
_LEVEL = {
    "info": app.NoticeLevel.INFO,
    "success": app.NoticeLevel.SUCCESS,
    "warning": app.NoticeLevel.WARNING,
    "error": app.NoticeLevel.ERROR,
}
_STYLE = {
    "primary": app.ButtonStyle.PRIMARY,
    "secondary": app.ButtonStyle.SECONDARY,
    "danger": app.ButtonStyle.DANGER,
}
_KIND = {
    "text": app.InputKind.TEXT,
    "multiline": app.InputKind.MULTILINE,
    "number": app.InputKind.NUMBER,
    "date": app.InputKind.DATE,
    "time": app.InputKind.TIME,
    "phone": app.InputKind.PHONE,
    "email": app.InputKind.EMAIL,
}


def _pick(table: dict, name: str, what: str):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"`{name}` is not a {what}: one of {', '.join(table)}") from None


class Page:
    """A page being built: each method adds a block, in reading order, and
    returns the page, so calls chain. `build()` makes the WIT page."""

    def __init__(self, title: str, navigation: Navigation = "push") -> None:
        self.title = title
        self.navigation: Navigation = navigation
        self.blocks: list[app.Block] = []

    def heading(self, text: str) -> Page:
        """A section heading."""
        self.blocks.append(app.Block_Heading(text))
        return self

    def text(self, text: str) -> Page:
        """A paragraph."""
        self.blocks.append(app.Block_Text(text))
        return self

    def field(self, label: str, value: object) -> Page:
        """A label and its value, side by side (`value` shown with `str`)."""
        self.blocks.append(app.Block_Field(app.KeyValue(label, str(value))))
        return self

    def item(self, title: str, detail: str = "", action: Optional[str] = None) -> Page:
        """An entry of a list; tapping it sends `action` (none: not tappable)."""
        self.blocks.append(app.Block_Item(app.ListItem(title, detail, action)))
        return self

    def button(self, label: str, action: str, style: Style = "secondary") -> Page:
        """A button; tapping it sends `action`."""
        self.blocks.append(app.Block_Button(app.Button(label, action, _pick(_STYLE, style, "button style"))))
        return self

    def input(
        self,
        form: str,
        name: str,
        label: str,
        kind: Kind = "text",
        value: str = "",
        required: bool = False,
    ) -> Page:
        """An input of the form `form`; the host shows the form's submit
        button after its last input and sends `name` in the submit event."""
        self.blocks.append(
            app.Block_Input(app.Input(form, name, _pick(_KIND, kind, "input kind"), label, value, required))
        )
        return self

    def image(self, url: str, alt: str) -> Page:
        """An image: `asset:NAME` from the package, or an `https:` URL of an
        origin `[capabilities.images]` declares."""
        self.blocks.append(app.Block_Image(app.Image(url, alt)))
        return self

    def notice(self, text: str, level: Level = "info") -> Page:
        """A notice the user should see."""
        self.blocks.append(app.Block_Notice(app.Notice(_pick(_LEVEL, level, "notice level"), text)))
        return self

    def replace(self) -> Page:
        """Shows the page in place of the current one."""
        self.navigation = "replace"
        return self

    def back(self) -> Page:
        """Closes the current page and shows this one in place of the one below."""
        self.navigation = "back"
        return self

    def build(self) -> app.Page:
        """The WIT page the host shows."""
        return app.Page(self.title, list(self.blocks), _pick(_NAVIGATION, self.navigation, "navigation"))


@dataclass
class Event:
    """One event of the session, read: `kind` says which, the other
    attributes carry what it brought (empty when not of that kind)."""

    #: `launch`, `tap`, `submit`, `chat`, `resume` or `hide`.
    kind: str
    #: A launch's path (`/` for the home; an empty path is read as `/`).
    path: str = ""
    #: A launch's query parameters.
    query: dict[str, str] = dataclass_field(default_factory=dict)
    #: A tap's action id.
    action: str = ""
    #: A submit's form id.
    form: str = ""
    #: A submit's fields, by name (values stripped of surrounding spaces).
    fields: dict[str, str] = dataclass_field(default_factory=dict)
    #: A chat message's text.
    text: str = ""
    #: A chat message's id and time (milliseconds since the epoch).
    message_id: str = ""
    sent_at_ms: int = 0

    @staticmethod
    def of(event: app.Event) -> Event:
        """Reads a WIT event."""
        if isinstance(event, app.Event_Launch):
            return Event(
                "launch",
                path=event.value.path or "/",
                query={f.name: f.value for f in event.value.query},
            )
        if isinstance(event, app.Event_Tap):
            return Event("tap", action=event.value)
        if isinstance(event, app.Event_Submit):
            return Event(
                "submit",
                form=event.value.form,
                fields={f.name: f.value.strip() for f in event.value.fields},
            )
        if isinstance(event, app.Event_Chat):
            return Event(
                "chat",
                text=event.value.text,
                message_id=event.value.id,
                sent_at_ms=event.value.sent_at_ms,
            )
        if isinstance(event, app.Event_Resume):
            return Event("resume")
        return Event("hide")

    def tapped(self, prefix: str) -> Optional[str]:
        """For a tap on `PREFIX...` (such as `parcel:1234` with prefix
        `parcel:`), what follows the prefix; otherwise `None`."""
        if self.kind == "tap" and self.action.startswith(prefix):
            return self.action[len(prefix) :]
        return None
