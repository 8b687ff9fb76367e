"""Serving funnel for a team: ``funnel serve`` (``make serve``) checks its configuration,
records in the database what it requires, and starts Streamlit on the app.

The configuration comes from a TOML file (``--config``, or ``$FUNNEL_SERVER_CONFIG``; by
default ``funnel-server.toml`` in the data folder when it exists), then the environment, then
the command line, each overriding the one before::

    [server]
    address = "127.0.0.1"      # FUNNEL_ADDRESS; behind a reverse proxy, keep it on loopback
    port = 8501                # FUNNEL_PORT
    data_dir = "/srv/funnel"   # FUNNEL_DATA_DIR: the database, its temporary files, secrets
    public_url = "https://funnel.example.com"   # FUNNEL_PUBLIC_URL: what browsers open
    max_session_hours = 12     # FUNNEL_MAX_SESSION_HOURS: sign in again after this long
    roles_file = "roles.toml"  # FUNNEL_ROLES_FILE (relative to the config file), or [roles]

    [auth]
    enabled = true             # FUNNEL_AUTH=on|off
    server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
    client_id = "funnel"       # FUNNEL_OIDC_CLIENT_ID
    client_secret = "..."      # FUNNEL_OIDC_CLIENT_SECRET (better than in the file)
    scope = "openid email profile groups"       # FUNNEL_OIDC_SCOPE
    prompt = ""                # FUNNEL_OIDC_PROMPT (e.g. "login")

    [roles]
    sign_marketing = ["group:funnel-marketing"]
    sign_sales = ["group:funnel-sales"]
    manage_datasets = ["ops@example.com"]
    view = ["domain:example.com"]

With sign-in on, the launcher refuses to start without roles, or with Streamlit options that
would let a request header name the user (``server.trustedUserHeaders``) or open the agent
API (``server.enableAgentApi``). It writes Streamlit's ``[auth]`` secrets into the data
folder (mode 0600; the cookie secret is generated once and kept, so a restart signs nobody
out) and records "sign-in required", with the roles, in the database (audited). With sign-in
off it passes a secrets file that does not exist, so no stray ``.streamlit/secrets.toml`` can
turn sign-in on, and it refuses to serve a database that requires sign-in: that is turned
off only by ``funnel auth off --as NAME``, which is audited too.

Everything the server writes stays in the data folder: the database (and DuckDB's spill
files beside it), the secrets, and every temporary file (``TMPDIR``). Uploads are held in
memory and exports are sent to the browser; neither is written anywhere else.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.access import DEFAULT_MAX_SESSION_HOURS, Access, Actor, Roles
from funnel.i18n import CodedError

CONFIG_NAME = "funnel-server.toml"
DB_NAME = "funnel.duckdb"
#: Streamlit options that would let something other than the provider say who a user is.
FORBIDDEN = {
    "server.trustedUserHeaders": "STREAMLIT_SERVER_TRUSTED_USER_HEADERS",
    "server.enableAgentApi": "STREAMLIT_SERVER_ENABLE_AGENT_API",
}


class ServeError(CodedError):
    """A configuration the server refuses to start with (``serve.<code>``)."""

    prefix = "serve"


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``funnel serve`` needs, resolved from the file, the environment and flags."""

    address: str = "127.0.0.1"
    port: int = 8501
    data_dir: Path = Path("data")
    public_url: str = ""
    auth: bool = False
    metadata_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scope: str = "openid email profile"
    prompt: str = ""
    roles: Roles = field(default_factory=Roles)
    max_session_hours: float = DEFAULT_MAX_SESSION_HOURS
    source: str = "defaults"

    @property
    def database(self) -> Path:
        return self.data_dir / DB_NAME

    @property
    def url(self) -> str:
        """The address browsers open (the proxy's https URL behind a reverse proxy)."""
        return (self.public_url or f"http://{self.address}:{self.port}").rstrip("/")

    @property
    def issuer(self) -> str:
        return self.metadata_url.split("/.well-known/", 1)[0]

    @property
    def private(self) -> Path:
        """Where the launcher keeps secrets: only the service user can read it."""
        return self.data_dir / ".funnel"

    def access(self) -> Access:
        """What the database will require while served this way."""
        if not self.auth:
            return Access.OFF
        return Access(
            required=True,
            issuer=self.issuer,
            roles=self.roles,
            max_session_hours=self.max_session_hours,
        )


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Resolve the configuration: the file, then ``FUNNEL_*`` variables, then ``overrides``."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    chosen = path or env.get("FUNNEL_SERVER_CONFIG") or None
    if chosen is None:
        guess = Path(env.get("FUNNEL_DATA_DIR") or "data") / CONFIG_NAME
        chosen = guess if guess.is_file() else None
    base = Path.cwd()
    if chosen is not None:
        source = str(chosen)
        try:
            data = tomllib.loads(Path(chosen).read_text("utf-8"))
        except FileNotFoundError:
            raise ServeError("config_missing", where=source) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ServeError("config_unreadable", where=source, detail=str(exc)[:160]) from None
        base = Path(chosen).resolve().parent
    server = _table(data, "server", chosen)
    auth = _table(data, "auth", chosen)
    values: dict[str, Any] = {
        "address": server.get("address"),
        "port": server.get("port"),
        "data_dir": server.get("data_dir"),
        "public_url": server.get("public_url"),
        "max_session_hours": server.get("max_session_hours"),
        "roles_file": server.get("roles_file"),
        "auth": auth.get("enabled"),
        "metadata_url": auth.get("server_metadata_url"),
        "client_id": auth.get("client_id"),
        "client_secret": auth.get("client_secret"),
        "scope": auth.get("scope"),
        "prompt": auth.get("prompt"),
    }
    for key, var in (
        ("address", "FUNNEL_ADDRESS"),
        ("port", "FUNNEL_PORT"),
        ("data_dir", "FUNNEL_DATA_DIR"),
        ("public_url", "FUNNEL_PUBLIC_URL"),
        ("max_session_hours", "FUNNEL_MAX_SESSION_HOURS"),
        ("roles_file", "FUNNEL_ROLES_FILE"),
        ("auth", "FUNNEL_AUTH"),
        ("metadata_url", "FUNNEL_OIDC_METADATA_URL"),
        ("client_id", "FUNNEL_OIDC_CLIENT_ID"),
        ("client_secret", "FUNNEL_OIDC_CLIENT_SECRET"),
        ("scope", "FUNNEL_OIDC_SCOPE"),
        ("prompt", "FUNNEL_OIDC_PROMPT"),
    ):
        if env.get(var, "").strip():
            values[key] = env[var].strip()
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    where = str(chosen or "environment")
    roles = Roles()
    if values["roles_file"]:
        roles_path = Path(str(values["roles_file"]))
        roles = Roles.from_file(roles_path if roles_path.is_absolute() else base / roles_path)
    elif "roles" in data:
        roles = Roles.from_dict(data["roles"], source=f"{where}: [roles]")
    data_dir = Path(str(values["data_dir"] or "data"))
    return ServerConfig(
        address=str(values["address"] or "127.0.0.1"),
        port=_number(values["port"], "port", where, int, 8501),
        data_dir=data_dir if data_dir.is_absolute() else (base / data_dir),
        public_url=str(values["public_url"] or ""),
        auth=_switch(values["auth"], where),
        metadata_url=str(values["metadata_url"] or ""),
        client_id=str(values["client_id"] or ""),
        client_secret=str(values["client_secret"] or ""),
        scope=str(values["scope"] or "openid email profile"),
        prompt=str(values["prompt"] or ""),
        roles=roles,
        max_session_hours=_number(
            values["max_session_hours"], "max_session_hours", where, float, 12.0
        ),
        source=where,
    )


def _table(data: dict[str, Any], name: str, source: Any) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ServeError("not_table", where=str(source), table=name)
    return table


def _switch(value: Any, where: str) -> bool:
    """
    >>> _switch("on", "x"), _switch(False, "x"), _switch(None, "x")
    (True, False, False)
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "on", "true", "yes"):
        return True
    if text in ("0", "off", "false", "no", ""):
        return False
    raise ServeError("bad_switch", where=where, value=str(value))


def _number(value: Any, name: str, where: str, kind: type, default: Any) -> Any:
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ServeError("bad_number", where=where, name=name, value=str(value)) from None
    if number <= 0 or (name == "port" and number > 65535):
        raise ServeError("bad_number", where=where, name=name, value=str(value))
    return number


def check(config: ServerConfig, *, env: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`ServeError`) a configuration the server must not start with."""
    env = os.environ if env is None else env
    for option, var in FORBIDDEN.items():
        if _set(env.get(var)):
            raise ServeError("forbidden_option", option=option, where=f"${var}")
        for file in _streamlit_configs(env):
            if _set(_streamlit_option(file, option)):
                raise ServeError("forbidden_option", option=option, where=str(file))
    if not config.auth:
        return
    missing = [
        name
        for name, value in (
            ("server_metadata_url", config.metadata_url),
            ("client_id", config.client_id),
            ("client_secret", config.client_secret),
        )
        if not value
    ]
    if missing:
        raise ServeError("auth_incomplete", where=config.source, missing=", ".join(missing))
    if not config.roles:
        raise ServeError("no_roles", where=config.source)
    if not config.url.startswith(("https://", "http://127.", "http://localhost")):
        raise ServeError("not_https", url=config.url)


def _set(value: Any) -> bool:
    """Whether an option's value turns it on (a non-empty header map, ``true``)."""
    if value is None:
        return False
    if isinstance(value, (dict, list)):
        return bool(value)
    text = str(value).strip().lower()
    return text not in ("", "false", "0", "no", "off", "{}", "[]")


def _streamlit_configs(env: Mapping[str, str]) -> list[Path]:
    """The config files Streamlit reads: the user's, then the working folder's."""
    home = Path(env.get("HOME") or Path.home())
    files = [home / ".streamlit" / "config.toml", Path.cwd() / ".streamlit" / "config.toml"]
    return [f for f in files if f.is_file()]


def _streamlit_option(file: Path, option: str) -> Any:
    section, name = option.split(".", 1)
    try:
        data = tomllib.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get(section)
    return table.get(name) if isinstance(table, dict) else None


def secrets_file(config: ServerConfig) -> Path:
    """Write Streamlit's ``[auth]`` secrets (mode 0600) and return their path.

    With sign-in off, the path returned does not exist: Streamlit then reads no secrets at
    all, so a ``.streamlit/secrets.toml`` lying around cannot turn sign-in on.
    """
    config.private.mkdir(parents=True, exist_ok=True)
    os.chmod(config.private, 0o700)
    path = config.private / "secrets.toml"
    if not config.auth:
        path.unlink(missing_ok=True)
        return config.private / "no-secrets.toml"
    cookie = config.private / "cookie_secret"
    if not cookie.is_file():
        _write_private(cookie, secrets.token_hex(32))
    kwargs = {"scope": config.scope} | ({"prompt": config.prompt} if config.prompt else {})
    lines = [
        "[auth]",
        f"redirect_uri = {_toml(config.url + '/oauth2callback')}",
        f"cookie_secret = {_toml(cookie.read_text('utf-8').strip())}",
        f"client_id = {_toml(config.client_id)}",
        f"client_secret = {_toml(config.client_secret)}",
        f"server_metadata_url = {_toml(config.metadata_url)}",
        "client_kwargs = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in kwargs.items()) + " }",
    ]
    _write_private(path, "\n".join(lines) + "\n")
    return path


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these values).

    >>> _toml('a"b')
    '"a\\\\"b"'
    """
    return json.dumps(value, ensure_ascii=False)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def prepare(config: ServerConfig, *, by: Actor) -> Access:
    """Record in the database what it requires while served with ``config`` (audited).

    A database that requires sign-in is never served without it: turning that off is
    ``funnel auth off``'s, explicitly.
    """
    from funnel.store import Store

    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "tmp").mkdir(exist_ok=True)
    with Store(config.database) as store:
        current = store.access()
        if not config.auth:
            if current.required:
                raise ServeError(
                    "db_requires_sign_in", path=str(config.database), issuer=current.issuer
                )
            return current
        return store.set_access(config.access(), by=by)


def command(config: ServerConfig, app: Path, secrets: Path) -> list[str]:
    """The server's command line (options that could name users forced off).

    Where the app has its early-import entry beside it (``serve.py``, which ``make run``
    starts), that runs the app, so the first page after a start does not wait for imports;
    else ``streamlit run`` does.
    """
    entry = app.parent / "serve.py"
    start = [str(entry), str(app)] if entry.is_file() else ["-m", "streamlit", "run", str(app)]
    return [
        sys.executable,
        *start,
        "--server.address",
        config.address,
        "--server.port",
        str(config.port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--server.enableXsrfProtection",
        "true",
        "--server.enableAgentApi",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--secrets.files",
        str(secrets),
    ]


def environment(config: ServerConfig, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: its database and temporary files in the data folder."""
    out = dict(os.environ if env is None else env)
    for var in FORBIDDEN.values():
        out.pop(var, None)
    out.pop("STREAMLIT_SECRETS_FILES", None)
    tmp = str((config.data_dir / "tmp").resolve())
    out |= {"FUNNEL_DB": str(config.database.resolve()), "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp}
    return out


def serve(config: ServerConfig, app: Path, *, by: Actor, argv_out: list[str] | None = None) -> None:
    """Check, record, write the secrets and replace this process with the Streamlit server.

    ``argv_out`` (tests) receives the command instead of running it.
    """
    check(config)
    prepare(config, by=by)
    secrets_path = secrets_file(config)
    cmd = command(config, app, secrets_path)
    if argv_out is not None:
        argv_out.extend(cmd)
        return
    os.execve(sys.executable, cmd, environment(config))


__all__ = [
    "CONFIG_NAME",
    "ServeError",
    "ServerConfig",
    "check",
    "command",
    "environment",
    "load_config",
    "prepare",
    "secrets_file",
    "serve",
]
