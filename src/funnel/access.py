"""Who acts, and what they may do: identities, roles, and the check every write makes.

An :class:`Actor` is whoever asks for a change: a person signed in through the company's
identity provider (``via="sign-in"``: e-mail and name come from the provider's ID token), the
command line (``via="cli"``: the name given with ``--as``, by default the OS user), or the app
on a laptop without sign-in (``via="local"``: the OS user running it).

A database can *require sign-in* (:class:`Access`, kept in the store and written by
``funnel serve``): then every change is checked here, inside the library function that
writes it, whatever the page showed. A signed-in person needs a role for the action (from
the roles file: by e-mail, ``domain:`` or ``group:``); the command line, run by someone who
can write the database file anyway, may change datasets and versions (recorded under its
``--as`` name) but never sign: a signature is made in the app by the signed-in person. An
actor that is neither is refused. Without sign-in required, nothing is checked and every
change is still recorded with who made it.

This is a policy kept with the data, not a security boundary: whoever can write the database
file can change anything in it. File ownership (a service user, mode 0600) protects it.
"""

from __future__ import annotations

import getpass
import re
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from funnel.i18n import CodedError

Via = Literal["sign-in", "cli", "local"]

#: What a role allows. Saving, proposing and importing versions is for anyone who may sign
#: for a side or manage datasets (a viewer may not).
ROLE_NAMES = ("sign_marketing", "sign_sales", "manage_datasets", "view")
#: Actions a write asks for, and the roles that allow each.
ACTIONS: dict[str, tuple[str, ...]] = {
    "sign_marketing": ("sign_marketing",),
    "sign_sales": ("sign_sales",),
    "manage_datasets": ("manage_datasets",),
    "edit_versions": ("sign_marketing", "sign_sales", "manage_datasets"),
    "view": ROLE_NAMES,
}
#: How long a sign-in is trusted by default (the provider's cookie lives 30 days).
DEFAULT_MAX_SESSION_HOURS = 12.0
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class AccessError(CodedError, PermissionError):
    """A change refused for who asked (``access.<code>``); nothing was written.

    >>> print(AccessError("not_allowed", who="vic@example.com", action="sign_sales"))
    vic@example.com may not sign for sales.
    """

    prefix = "access"

    def localized(self, lang: str) -> dict[str, Any]:
        from funnel.i18n import t

        params = dict(self.params)
        if params.get("action") in ACTIONS:
            params["action"] = t(f"access.action.{params['action']}", lang)
        return params


class RolesError(CodedError, ValueError):
    """A roles file (or the roles in a server config) that cannot be used (``roles.<code>``)."""

    prefix = "roles"


@dataclass(frozen=True)
class Actor:
    """Who asks for a change. ``id`` is the e-mail when signed in, else the given name."""

    id: str
    name: str
    via: Via
    issuer: str = ""
    subject: str = ""
    groups: tuple[str, ...] = ()

    @property
    def signed_in(self) -> bool:
        return self.via == "sign-in"

    @property
    def email(self) -> str:
        """The e-mail address the provider vouched for ("" unless signed in)."""
        return self.id if self.signed_in else ""

    @classmethod
    def cli(cls, name: str | None = None) -> Actor:
        """The command line acting as ``name`` (``--as``), by default the OS user.

        >>> Actor.cli("aiko")
        Actor(id='aiko', name='aiko', via='cli', issuer='', subject='', groups=())
        """
        who = " ".join(str(name or "").split()) or os_user()
        return cls(who, who, "cli")

    @classmethod
    def local(cls) -> Actor:
        """The app without sign-in, acting as the OS user that runs it."""
        who = os_user()
        return cls(who, who, "local")

    def label(self) -> str:
        """``Name <e-mail>`` for a signed-in person, the name otherwise.

        >>> Actor("mara@example.com", "Mara", "sign-in").label()
        'Mara <mara@example.com>'
        """
        return f"{self.name} <{self.id}>" if self.signed_in and self.name != self.id else self.id


def os_user() -> str:
    """The OS user running this process (``unknown`` when it cannot be told)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Roles:
    """Who holds each role: rules that are an e-mail, ``domain:example.com`` or ``group:NAME``.

    >>> roles = Roles.from_dict({"sign_sales": ["group:sales"], "view": ["domain:example.com"]})
    >>> sam = Actor("sam@example.com", "Sam", "sign-in", groups=("sales",))
    >>> roles.allows(sam, "sign_sales"), roles.allows(sam, "sign_marketing")
    (True, False)
    >>> roles.held_by(sam)
    ('sign_sales', 'view')
    """

    rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "roles") -> Roles:
        """Read ``{role: [rule, ...]}``; an unknown role or a malformed rule is refused."""
        if not isinstance(data, dict):
            raise RolesError("not_table", where=source)
        rules: dict[str, tuple[str, ...]] = {}
        for role, entries in data.items():
            if role not in ROLE_NAMES:
                raise RolesError(
                    "unknown_role", where=source, role=role, roles=", ".join(ROLE_NAMES)
                )
            if isinstance(entries, str):
                entries = [entries]
            if not isinstance(entries, list):
                raise RolesError("not_list", where=source, role=role)
            kept = []
            for entry in entries:
                rule = str(entry).strip().lower()
                if not _valid_rule(rule):
                    raise RolesError("bad_rule", where=source, role=role, rule=str(entry))
                kept.append(rule)
            rules[role] = tuple(kept)
        return cls(rules)

    @classmethod
    def from_file(cls, path: str | Path) -> Roles:
        """Read a roles file: TOML with a ``[roles]`` table (or the roles at its top level)."""
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise RolesError("missing", where=source) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RolesError("unreadable", where=source, detail=str(exc)[:120]) from None
        except tomllib.TOMLDecodeError as exc:
            raise RolesError("not_toml", where=source, detail=str(exc)[:120]) from None
        return cls.from_dict(data.get("roles", data), source=source)

    def as_dict(self) -> dict[str, list[str]]:
        return {role: list(rules) for role, rules in self.rules.items()}

    def __bool__(self) -> bool:
        return any(self.rules.values())

    def holds(self, actor: Actor, role: str) -> bool:
        email = actor.id.lower()
        domain = email.rpartition("@")[2]
        groups = {g.lower() for g in actor.groups}
        for rule in self.rules.get(role, ()):
            if rule == email or rule == f"domain:{domain}":
                return True
            if rule.startswith("group:") and rule[6:] in groups:
                return True
        return False

    def held_by(self, actor: Actor) -> tuple[str, ...]:
        """The roles ``actor`` holds; anyone holding one may also view."""
        held = [r for r in ROLE_NAMES if r != "view" and self.holds(actor, r)]
        if held or self.holds(actor, "view"):
            held.append("view")
        return tuple(held)

    def allows(self, actor: Actor, action: str) -> bool:
        return bool(set(ACTIONS[action]) & set(self.held_by(actor)))


def _valid_rule(rule: str) -> bool:
    """
    >>> [_valid_rule(r) for r in ("a@b.c", "domain:b.c", "group:x", "b.c", "group:")]
    [True, True, True, False, False]
    """
    if rule.startswith("domain:"):
        return bool(rule[7:]) and "@" not in rule[7:] and " " not in rule
    if rule.startswith("group:"):
        return bool(rule[6:].strip())
    return bool(_EMAIL.match(rule))


@dataclass(frozen=True)
class Access:
    """What a database requires, as ``funnel serve`` recorded it in the store."""

    required: bool = False
    issuer: str = ""
    roles: Roles = field(default_factory=Roles)
    max_session_hours: float = DEFAULT_MAX_SESSION_HOURS
    since: str = ""
    by: str = ""

    OFF: ClassVar[Access]

    def as_dict(self) -> dict[str, Any]:
        return {
            "required": self.required,
            "issuer": self.issuer,
            "roles": self.roles.as_dict(),
            "max_session_hours": self.max_session_hours,
            "since": self.since,
            "by": self.by,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Access:
        if not isinstance(data, dict):
            return cls()
        return cls(
            required=bool(data.get("required")),
            issuer=str(data.get("issuer") or ""),
            roles=Roles.from_dict(data.get("roles") or {}, source="stored roles"),
            max_session_hours=float(data.get("max_session_hours") or DEFAULT_MAX_SESSION_HOURS),
            since=str(data.get("since") or ""),
            by=str(data.get("by") or ""),
        )

    def check(self, actor: Actor, action: str) -> None:
        """Refuse ``action`` by ``actor`` (:class:`AccessError`) unless this database allows it."""
        if not self.required:
            return
        if action in ("sign_marketing", "sign_sales") and not actor.signed_in:
            raise AccessError("sign_in_to_sign", issuer=self.issuer or "-")
        if actor.via == "cli":
            return  # someone who can write the file; recorded under the --as name
        if not actor.signed_in:
            raise AccessError("sign_in_first")
        if not self.roles.allows(actor, action):
            raise AccessError("not_allowed", who=actor.id, action=action)


Access.OFF = Access()


def identity_from_claims(
    claims: Mapping[str, Any],
    *,
    max_session_hours: float = DEFAULT_MAX_SESSION_HOURS,
    now: float | None = None,
) -> Actor:
    """The signed-in person from the provider's ID-token claims (Streamlit's ``st.user``).

    Refused (:class:`AccessError`) when the provider sent no verified e-mail, or when the
    sign-in is older than ``max_session_hours`` (the provider's cookie is trusted for 30 days;
    funnel asks again sooner).

    >>> claims = {"email": "Sam@Example.com", "name": "Sam", "groups": ["Sales"], "iat": 100}
    >>> identity_from_claims(claims, now=200).label()
    'Sam <sam@example.com>'
    >>> identity_from_claims(claims, max_session_hours=0.01, now=200 + 3600).name
    Traceback (most recent call last):
    funnel.access.AccessError: Your sign-in has expired. Sign in again.
    """
    email = claims.get("email")
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise AccessError("no_email")
    email = email.strip().lower()
    if claims.get("email_verified") is False:
        raise AccessError("email_unverified", who=email)
    issued = claims.get("auth_time") or claims.get("iat")
    if not isinstance(issued, (int, float)) or isinstance(issued, bool):
        raise AccessError("expired")
    if (now if now is not None else time.time()) - float(issued) > max_session_hours * 3600:
        raise AccessError("expired")
    groups = claims.get("groups") or ()
    if isinstance(groups, str):
        groups = (groups,)
    name = " ".join(str(claims.get("name") or "").split()) or email
    return Actor(
        id=email,
        name=name,
        via="sign-in",
        issuer=str(claims.get("iss") or ""),
        subject=str(claims.get("sub") or ""),
        groups=tuple(str(g) for g in groups if str(g)),
    )


__all__ = [
    "ACTIONS",
    "Access",
    "AccessError",
    "Actor",
    "ROLE_NAMES",
    "Roles",
    "RolesError",
    "identity_from_claims",
    "os_user",
]
