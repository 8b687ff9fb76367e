"""A session speaking Streamlit's websocket protocol with a browser's cookies: to send what a
page never would (a click on a control it did not show), as a forged request would.

It offers the browser's XSRF cookie as the second subprotocol and the app's Origin, as the
browser does; without them Streamlit ignores the identity cookie.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

T = TypeVar("T")


@dataclass
class Seen:
    """What one script run sent: buttons by label (widget id), and the texts shown."""

    buttons: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


class Sock:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen = Seen()
        self.finished = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, url: str, cookies: list[dict[str, Any]]) -> Sock:
        jar = {c["name"]: c["value"] for c in cookies}
        protocols = [websockets.Subprotocol("streamlit")]
        if "_streamlit_xsrf" in jar:
            protocols.append(websockets.Subprotocol(jar["_streamlit_xsrf"]))
        ws = await websockets.connect(
            url.replace("http://", "ws://", 1) + "/_stcore/stream",
            subprotocols=protocols,
            origin=websockets.Origin(url),
            max_size=None,
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
        )
        return cls(ws)

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "button":
                    self.seen.buttons[element.button.label] = element.button.id
                elif what in ("markdown", "alert", "text", "heading"):
                    self.seen.texts.append(getattr(element, what).body)
                elif what == "exception":
                    self.seen.texts.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "script_finished":
                self.finished.set()

    async def run(self, page: str, clicks: tuple[str, ...] = ()) -> Seen:
        """Run ``page``, reporting a click on each widget id in ``clicks``."""
        msg = BackMsg()
        msg.rerun_script.page_name = page
        for widget_id in clicks:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = widget_id
            state.trigger_value = True
        self.seen = Seen()
        self.finished.clear()
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self.finished.wait(), 60)
        await asyncio.sleep(0.5)  # a rerun the run asked for (st.rerun) finishes too
        return self.seen

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


def in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine in a thread of its own: Playwright's sync API holds this one's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()
