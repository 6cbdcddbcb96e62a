from plaza_sdk import storage


def greet() -> str:
    storage.set_text("greeting", "hello")
    storage.set_json("visits", {"count": 1, "last": "2026-12-03"})
    visits = storage.get_json("visits", {}).get("count", 0)
    usage = storage.usage()
    return f"{storage.get_text('greeting')}: {visits} visits, {usage.used_bytes} of {usage.quota_bytes} bytes used"
