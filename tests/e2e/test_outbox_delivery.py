"""The default sender through the real server: the outbox file, with no SMS account.

A server started without Twilio credentials writes every text that does not go back in a
webhook response to `$TEXTCART_DATA_DIR/outbox.jsonl`. Through `textcart serve` (whose run
workers refuse blocking calls) a due proactive text must land there. The crash and
recovery path, for both senders, is tests/e2e/test_crash_recovery.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import (
    Server,
    locked_env,
    log_of,
    message_text,
    new_phone,
    opt_in,
    outbox_sender,
    post_events,
    post_sms,
    running_server,
    wait_for,
    webhook_form,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the default sender: Twilio only checks signatures, nothing sends there."""
    directory = tmp_path_factory.mktemp("textcart-outbox-server")
    env = locked_env(
        TEXTCART_ABANDONMENT_DELAY_MINUTES="0",
        TEXTCART_SCHEDULER_INTERVAL_S="0.5",
        TEXTCART_QUIET_START="0",
        TEXTCART_QUIET_END="0",
    )
    with running_server(directory, outbox_sender(env)) as instance:
        yield instance


def outbox_lines(server: Server) -> list[dict[str, Any]]:
    path = Path(server.directory) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_due_proactive_text_is_written_to_the_outbox(outbox_server: Server) -> None:
    phone = new_phone()
    first = await post_sms(outbox_server, webhook_form(phone, "hi, any rain jackets?"))
    assert message_text(first.text)
    await opt_in(outbox_server, phone)
    response = await post_events(
        outbox_server, {"phone": phone, "type": "added_to_cart", "product_id": "TH-STORMWALL-M-BLK"}
    )
    assert response.status_code == 202

    async def sent() -> list[dict[str, Any]]:
        return [line for line in outbox_lines(outbox_server) if line["to"] == phone]

    (line,) = await wait_for(sent, timeout_s=60)
    assert line["text"] and line["key"].startswith("cart_abandonment-")
    proactive = [m for m in await log_of(outbox_server, phone) if m.get("proactive")]
    assert [m["delivery"]["status"] for m in proactive] == ["sent"]
    assert proactive[0]["delivery"]["channel"] == "outbox"
    assert "BlockingError" not in outbox_server.log_tail(400)
