"""Portal users: password hashes, the users file and server-side sessions."""

from __future__ import annotations

import doctest
import io
from pathlib import Path

import pytest

import sync.portal_users
from connector.secrets import Secret
from sync.cli import main
from sync.embedding import Viewer
from sync.errors import ConfigurationError
from sync.portal_users import (
    PortalUser,
    Sessions,
    hash_password,
    load_users,
    verify_password,
)

FAST = 1000


def test_doctests() -> None:
    failures, attempted = doctest.testmod(sync.portal_users)

    assert attempted > 0
    assert failures == 0


def test_a_hash_is_salted_and_verifies() -> None:
    first = hash_password("s3cret", iterations=FAST)
    second = hash_password("s3cret", iterations=FAST)

    assert first != second
    assert verify_password("s3cret", first)
    assert verify_password("s3cret", second)
    assert not verify_password("S3cret", first)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "pbkdf2_sha256$1000$not base64$AAAA",
        "pbkdf2_sha256$many$AAAA$AAAA",
        "md5$1000$AAAA$AAAA",
        "pbkdf2_sha256$0$AAAA$AAAA",
    ],
)
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert verify_password("anything", stored) is False


def write_users(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_users_file_gives_each_user_a_viewer(tmp_path: Path) -> None:
    hashed = hash_password("pw", iterations=FAST)
    path = write_users(
        tmp_path,
        f"""
users:
  broker: {{password: "{hashed}", sees: brokerage}}
  front-desk: {{password: "{hashed}", sees: office, profile_id: 101}}
  alice:
    password: "{hashed}"
    sees: agent
    agent_email: Alice@Brokerage.example
""",
    )

    users = load_users(path)

    assert {name: user.viewer for name, user in users.items()} == {
        "broker": Viewer.brokerage(),
        "front-desk": Viewer.office(101),
        "alice": Viewer.agent("alice@brokerage.example"),
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{password: plain, sees: brokerage}", "never the password itself"),
        ("{password: HASH, sees: everyone}", "sees must be one of"),
        ("{password: HASH, sees: office}", "needs profile_id"),
        ("{password: HASH, sees: office, profile_id: '101'}", "needs profile_id"),
        ("{password: HASH, sees: agent}", "needs agent_email"),
        ('{password: HASH, sees: agent, agent_email: "a\'b@x.y"}', "e-mail"),
        ("just-a-string", "must be a map"),
    ],
)
def test_a_bad_user_entry_stops_the_portal_naming_it(
    tmp_path: Path, entry: str, message: str
) -> None:
    hashed = hash_password("pw", iterations=FAST)
    path = write_users(tmp_path, f"users:\n  bob: {entry.replace('HASH', hashed)}\n")

    with pytest.raises(ConfigurationError, match=message) as refused:
        load_users(path)

    assert "'bob'" in str(refused.value)


@pytest.mark.parametrize("text", ["", "users: []", "users: {}", "[1, 2]"])
def test_a_users_file_without_users_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError, match="users"):
        load_users(write_users(tmp_path, text))


def test_a_missing_users_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--users"):
        load_users(tmp_path / "absent.yaml")


def sessions(ttl: float = 3600) -> Sessions:
    hashed = Secret(hash_password("right", iterations=FAST))
    users = {
        "broker": PortalUser("broker", hashed, Viewer.brokerage()),
        "alice": PortalUser("alice", hashed, Viewer.agent("alice@x.example")),
    }
    return Sessions(users, ttl=ttl)


def test_a_session_belongs_to_the_user_who_logged_in() -> None:
    store = sessions()

    session_id = store.log_in("alice", "right")

    assert session_id is not None
    user = store.user(session_id.reveal())
    assert user is not None
    assert user.viewer == Viewer.agent("alice@x.example")


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("mallory", "right"), ("", "")],
)
def test_a_wrong_login_opens_no_session(username: str, password: str) -> None:
    assert sessions().log_in(username, password) is None


@pytest.mark.parametrize("session_id", [None, "", "made-up"])
def test_an_unknown_session_has_no_user(session_id: str | None) -> None:
    store = sessions()
    store.log_in("broker", "right")

    assert store.user(session_id) is None


def test_a_session_ends_at_logout_and_when_it_expires() -> None:
    store = sessions()
    session_id = store.log_in("broker", "right")
    assert session_id is not None

    store.log_out(session_id.reveal())

    assert store.user(session_id.reveal()) is None
    short = sessions(ttl=-1)
    expired = short.log_in("broker", "right")
    assert expired is not None
    assert short.user(expired.reveal()) is None


def test_hash_password_command_prints_a_verifiable_hash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))

    assert main(["portal", "hash-password", "--stdin"]) == 0

    printed = capsys.readouterr().out.strip()
    assert verify_password("correct horse", printed)
    assert "correct horse" not in printed
