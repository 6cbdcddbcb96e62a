import datetime

from plaza_sdk import clock


def shown() -> str:
    now = clock.now()  # an aware datetime in the host's time zone
    tomorrow = clock.today() + datetime.timedelta(days=1)
    return f"{now:%Y-%m-%d %H:%M} (tomorrow: {tomorrow.isoformat()}, {clock.now_ms()} ms since the epoch)"
