"""What an action says after the rerun it ends with: kept in the session by :func:`rerun_saying`
and said once, next to the action's button, on the next run (:func:`said`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import streamlit as st

from app import ui
from funnel.problems import Problem


@dataclass(frozen=True)
class Done:
    """An action's message, the notes it came with, and the dataset it touched."""

    message: str
    problems: tuple[Problem, ...] = ()
    dataset: str | None = None


def rerun_saying(
    key: str, message: str, problems: Sequence[Problem] = (), dataset: str | None = None
) -> NoReturn:
    """Keep what the action says under ``key`` and rerun the page (which then shows it)."""
    st.session_state[key] = Done(message, tuple(problems), dataset)
    st.rerun()


def said(key: str) -> Done | None:
    """What the action that just finished said (taken once), or None."""
    done = st.session_state.pop(key, None)
    return done if isinstance(done, Done) else None


def show(done: Done | None) -> None:
    """Say ``done``'s message, then its notes."""
    if done is None:
        return
    st.success(done.message)
    if done.problems:
        ui.show_problems(done.problems)
