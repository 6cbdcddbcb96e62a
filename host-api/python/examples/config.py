from typing import Optional

from plaza_sdk import config

# plaza.toml:
#   [[settings]]
#   name = "agency-origin"
#   default = "https://agency.example.gov.cn"
#   [[settings]]
#   name = "agency-api-key"
#   secret = true


def agency() -> tuple[str, Optional[str]]:
    return config.get("agency-origin"), config.get_or("agency-api-key")
