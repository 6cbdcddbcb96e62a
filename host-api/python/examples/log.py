from plaza_sdk import log


def booked() -> None:
    log.info("booking B0001 confirmed")
    log.warn("no free time in the next three days")
