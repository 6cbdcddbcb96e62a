from plaza_sdk import Page, scan

# plaza.toml: [capabilities.scan]


def on_tap_scan() -> Page:
    try:
        code = scan.scan_code("The QR code at the clinic's door", [scan.CodeKind.QR])
    except scan.Cancelled:
        return Page("Check-in").text("No code was scanned.")
    return Page("Scanned").field("Code", code.text)
