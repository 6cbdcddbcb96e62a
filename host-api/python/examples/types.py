from plaza_sdk import HostError, LimitExceeded, Page, storage


def save_draft() -> Page:
    try:
        storage.set_text("draft", "Dear doctor, ...")
        return Page("Saved")
    except LimitExceeded as e:
        # A denial is data: show it, or offer another way.
        return Page("Too long").notice(str(e), "error")
    except HostError as e:
        return Page("Not saved").notice(f"{e.case}: {e}", "error")
