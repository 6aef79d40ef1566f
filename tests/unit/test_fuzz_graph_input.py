"""Fuzzing the graph's input through `Agent.receive`: anything a phone can send, no crash.

Arbitrary unicode, emoji, control characters, empty and huge texts, odd phone strings.
The only error allowed is `InvalidInput` (a bad number or an over-long text), and every
accepted text leaves a logged inbound message and a well-formed outcome. Classic deciders
and no Weaviate (retrieval degrades), so each example is a fast, real turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textcart.agent import MAX_INBOUND_CHARS, Agent, InvalidInput
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.tools.compliance import sms_segments

EXAMPLES = 150
_AGENT: dict[str, Agent] = {}

texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=30),
    st.text(alphabet="🥾👟🛑❓🎉😍🏔️\u200d\ufe0f", max_size=30),
    st.sampled_from(
        ["STOP", "stop 🛑", "HELP", "START", "", " ", "\x00", "cancel my order", "ＳＴＯＰ"]
    ),
    st.builds(lambda s, n: s * n, st.sampled_from(["a", "€", "😍", "boots "]), st.integers(1, 400)),
    st.just("x" * (MAX_INBOUND_CHARS + 1)),
)
phones = st.one_of(
    st.sampled_from(
        ["+14155550123", "(212) 555-0142", "2125550142", "+447911123456", "001 212 555 0142"]
    ),
    # Numbers that can exist (exchange 200-999) and, with area code 555, ones that cannot.
    st.builds(
        "+1{}{:07d}".format,
        st.sampled_from(["212", "415", "303", "555"]),
        st.integers(2_000_000, 10**7 - 1),
    ),
    st.text(alphabet="+0123456789 ()-.", max_size=20),
    st.text(max_size=15),
)


@pytest.fixture(scope="module", autouse=True)
def agent(services: Services) -> Iterator[None]:
    _AGENT["agent"] = Agent.in_memory(services, Context(model=None))
    yield
    _AGENT.clear()
    # Checked here, after the fuzz test, whichever tests ran before or after it.
    if RESULTS["examples"]:
        assert RESULTS["examples"] == EXAMPLES, RESULTS
        # Both paths were taken often (the exact split varies with how hypothesis shrinks).
        assert RESULTS["turns"] >= EXAMPLES // 4 and RESULTS["refused"] >= EXAMPLES // 4, RESULTS


RESULTS: dict[str, int] = {"examples": 0, "turns": 0, "refused": 0}
pytestmark = pytest.mark.usefixtures("no_weaviate")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(phone=phones, text=texts)
async def test_any_input_is_handled_or_refused_cleanly(phone: str, text: str) -> None:
    agent = _AGENT["agent"]
    RESULTS["examples"] += 1
    try:
        state: Any = await agent.receive(phone, text)
    except InvalidInput:
        RESULTS["refused"] += 1
        return
    RESULTS["turns"] += 1
    assert state["gate"]["action"] in ("continue", "fixed_reply", "silent")
    log = await agent.shoppers.messages(state["shopper_id"])
    assert any(m["message_id"] == state["message_id"] for m in log)  # never lost
    outbound = state.get("outbound")
    if outbound and outbound["text"]:
        assert sms_segments(outbound["text"]).segments <= agent.context.max_segments
        assert "\x00" not in outbound["text"]
