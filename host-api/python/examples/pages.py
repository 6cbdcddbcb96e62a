from plaza_sdk import Item, MiniApp, Page


class Pages(MiniApp):
    taps = 0

    def home(self) -> Page:
        return (
            Page("Counter")
            .field("Taps", Pages.taps)
            .button("Tap me", "tap", "primary")
            .choice("fx", "currency", "Currency", {"USD": "US dollar", "EUR": "Euro"}, value="USD", required=True)
            .input("fx", "amount", "Amount", "number", required=True, min="1", max="50000")
            .section("Rates", [Item("US dollar", trailing="7.12"), Item("Euro", trailing="7.68")], load_more="more-rates")
            .refreshable()
        )

    def on_tap(self, action: str) -> Page:
        if action == "tap":
            Pages.taps += 1
        return self.home().replace()

    def on_submit(self, form: str, fields: dict[str, str]) -> Page:
        # The host checked every value against its input before this point.
        return Page("Exchange", "replace").field("Buying", f"{fields['amount']} {fields['currency']}")
