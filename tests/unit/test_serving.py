"""``funnel serve`` (make serve): configuration, the refusals, secrets and what it records."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from funnel import audit
from funnel.access import Access, Actor, Roles
from funnel.serving import (
    ServeError,
    check,
    command,
    environment,
    load_config,
    prepare,
    secrets_file,
    serve,
)
from funnel.store import Store

APP = Path(__file__).resolve().parents[2] / "app" / "main.py"
ROLES = {"sign_marketing": ["group:m"], "sign_sales": ["group:s"], "view": ["domain:example.com"]}
METADATA = "http://127.0.0.1:9400/.well-known/openid-configuration"


def team_config(tmp_path: Path, **server: object) -> Path:
    path = tmp_path / "funnel-server.toml"
    lines = ["[server]", f'data_dir = "{tmp_path / "srv"}"']
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in server.items()]
    lines += [
        "[auth]",
        "enabled = true",
        f'server_metadata_url = "{METADATA}"',
        'client_id = "funnel"',
        'client_secret = "s3cret"',
        "[roles]",
        *(f"{role} = {rules!r}".replace("'", '"') for role, rules in ROLES.items()),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_the_file_then_the_environment_then_the_flags_decide(tmp_path: Path) -> None:
    path = team_config(tmp_path, port=8600)
    config = load_config(path, env={})
    assert (config.port, config.auth, config.address) == (8600, True, "127.0.0.1")
    assert config.roles == Roles.from_dict(ROLES)
    assert config.database == tmp_path / "srv" / "funnel.duckdb"
    env = {"FUNNEL_PORT": "8700", "FUNNEL_PUBLIC_URL": "https://funnel.example.com"}
    config = load_config(path, env=env)
    assert config.port == 8700 and config.url == "https://funnel.example.com"
    config = load_config(path, env=env, overrides={"port": 8800, "auth": "off"})
    assert config.port == 8800 and not config.auth


def test_defaults_serve_without_sign_in_on_loopback(tmp_path: Path) -> None:
    config = load_config(None, env={"FUNNEL_DATA_DIR": str(tmp_path)})
    assert (config.address, config.port, config.auth) == ("127.0.0.1", 8501, False)
    check(config, env={"HOME": str(tmp_path)})  # nothing to refuse


def test_a_roles_file_next_to_the_config_is_read(tmp_path: Path) -> None:
    (tmp_path / "roles.toml").write_text('[roles]\nview = ["domain:example.com"]\n', "utf-8")
    path = tmp_path / "c.toml"
    path.write_text('[server]\nroles_file = "roles.toml"\n', "utf-8")
    assert load_config(path, env={}).roles == Roles.from_dict({"view": ["domain:example.com"]})


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"roles": Roles()}, "no_roles"),
        ({"client_secret": ""}, "auth_incomplete"),
        ({"public_url": "http://funnel.example.com"}, "not_https"),
    ],
)
def test_sign_in_without_roles_or_settings_or_https_refuses_to_start(
    tmp_path: Path, change: dict[str, object], code: str
) -> None:
    from dataclasses import replace

    config = replace(load_config(team_config(tmp_path), env={}), **change)  # type: ignore[arg-type]
    with pytest.raises(ServeError) as caught:
        check(config, env={"HOME": str(tmp_path)})
    assert caught.value.code == code
    assert "refusing to start" in caught.value.message("en")
    assert "起動を中止しました" in caught.value.message("ja")


@pytest.mark.parametrize(
    ("option", "variable", "toml"),
    [
        (
            "server.trustedUserHeaders",
            "STREAMLIT_SERVER_TRUSTED_USER_HEADERS",
            '{"X-User" = "email"}',
        ),
        ("server.enableAgentApi", "STREAMLIT_SERVER_ENABLE_AGENT_API", "true"),
    ],
)
def test_options_that_let_a_header_name_the_user_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, variable: str, toml: str
) -> None:
    config = load_config(team_config(tmp_path), env={})
    with pytest.raises(ServeError, match=option):
        check(config, env={"HOME": str(tmp_path), variable: '{"X-User": "email"}'})
    home = tmp_path / "home"
    (home / ".streamlit").mkdir(parents=True)
    section, name = option.split(".")
    (home / ".streamlit" / "config.toml").write_text(f"[{section}]\n{name} = {toml}\n", "utf-8")
    with pytest.raises(ServeError, match=option):
        check(config, env={"HOME": str(home)})
    # and they are forced off on the command line whatever the files say
    cmd = command(config, Path("app/main.py"), Path("s.toml"))
    assert cmd[cmd.index("--server.enableAgentApi") + 1] == "false"
    assert variable not in environment(config, {variable: "x"})


def test_the_secrets_are_private_and_the_cookie_secret_survives_a_restart(tmp_path: Path) -> None:
    config = load_config(team_config(tmp_path), env={})
    path = secrets_file(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.private.stat().st_mode) == 0o700
    auth = tomllib.loads(path.read_text("utf-8"))["auth"]
    assert auth["redirect_uri"] == "http://127.0.0.1:8501/oauth2callback"
    assert auth["server_metadata_url"] == METADATA and auth["client_secret"] == "s3cret"
    assert auth["client_kwargs"] == {"scope": "openid email profile"}
    again = tomllib.loads(secrets_file(config).read_text("utf-8"))["auth"]
    assert again["cookie_secret"] == auth["cookie_secret"] and len(auth["cookie_secret"]) == 64


def test_without_sign_in_no_secrets_file_is_read_at_all(tmp_path: Path) -> None:
    config = load_config(team_config(tmp_path), env={}, overrides={"auth": False})
    secrets_file(load_config(team_config(tmp_path), env={}))  # an old one from sign-in days
    path = secrets_file(config)
    assert not path.exists() and not (config.private / "secrets.toml").exists()


def test_serving_with_sign_in_records_it_and_the_roles_and_without_refuses_that_database(
    tmp_path: Path,
) -> None:
    config = load_config(team_config(tmp_path), env={})
    argv: list[str] = []
    serve(config, APP, by=Actor.cli("ops"), argv_out=argv)
    assert argv[1:3] == [str(APP.parent / "serve.py"), str(APP)] and "--secrets.files" in argv
    with Store(config.database, read_only=True) as store:
        assert store.access() == Access(
            required=True,
            issuer="http://127.0.0.1:9400",
            roles=config.roles,
            max_session_hours=12.0,
            since=store.access().since,
            by="ops",
        )
        assert [e.action for e in audit.events(store)] == ["access.required"]
    prepare(config, by=Actor.cli("ops"))  # the same again: nothing new to record
    from dataclasses import replace

    fewer = replace(config, roles=Roles.from_dict({"view": ["domain:example.com"]}))
    prepare(fewer, by=Actor.cli("ops"))
    off = replace(config, auth=False)
    with pytest.raises(ServeError) as caught:
        prepare(off, by=Actor.cli("ops"))
    assert caught.value.code == "db_requires_sign_in" and "funnel auth off" in str(caught.value)
    with Store(config.database, read_only=True) as store:
        assert [e.action for e in audit.events(store)] == ["access.required", "access.roles"]


def test_everything_the_server_writes_stays_in_its_data_folder(tmp_path: Path) -> None:
    config = load_config(team_config(tmp_path), env={})
    env = environment(config, {"PATH": "/usr/bin", "STREAMLIT_SECRETS_FILES": "/elsewhere"})
    srv = str((tmp_path / "srv").resolve())
    assert env["FUNNEL_DB"].startswith(srv) and env["TMPDIR"].startswith(srv)
    assert "STREAMLIT_SECRETS_FILES" not in env


def test_make_serve_refuses_in_words_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[server]\ndata_dir = "{tmp_path}"\n[auth]\nenabled = true\n'
        f'server_metadata_url = "{METADATA}"\nclient_id = "f"\nclient_secret = "s"\n',
        "utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "funnel", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2
    assert "no roles are configured" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "funnel.duckdb").exists()  # refused before touching anything


def test_funnel_serve_starts_the_app_the_way_make_run_does(tmp_path: Path) -> None:
    config = load_config(team_config(tmp_path), env={})
    # through the early-import entry beside the app (app/serve.py: the libraries every page
    # needs are imported before the server listens) ...
    cmd = command(config, APP, Path("s.toml"))
    assert cmd[:3] == [sys.executable, str(APP.parent / "serve.py"), str(APP)]
    assert cmd[cmd.index("--server.port") + 1] == str(config.port)
    # ... which runs as a file, hands the app and the options to streamlit run ...
    shown = subprocess.run(
        [*cmd[:3], "--help"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Usage: streamlit run" in shown.stdout
    # ... and an app without one is run by streamlit run itself
    other = tmp_path / "elsewhere" / "main.py"
    other.parent.mkdir()
    other.write_text("", encoding="utf-8")
    assert command(config, other, Path("s.toml"))[1:5] == ["-m", "streamlit", "run", str(other)]
