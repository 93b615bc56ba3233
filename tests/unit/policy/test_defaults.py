"""The built-in denylist: every category denies its contexts and spares look-alikes."""

from __future__ import annotations

import pytest

from apprentice.events import WindowInfo
from apprentice.policy.defaults import DENYLIST


def _category(window: WindowInfo) -> str | None:
    for category, rules in DENYLIST:
        if rules.matches(window):
            return category
    return None


DENIED = [
    ("messaging", WindowInfo(1, app_id="Signal", process="signal-desktop")),
    ("messaging", WindowInfo(1, app_id="TelegramDesktop")),
    ("messaging", WindowInfo(1, process="WhatsApp.exe")),
    ("messaging", WindowInfo(1, app_id="discord")),
    ("messaging", WindowInfo(1, app_id="Element")),
    ("messaging", WindowInfo(1, app_id="Pidgin")),
    ("messaging", WindowInfo(1, app_id="Hexchat")),
    ("messaging", WindowInfo(1, app_id="Slack")),
    ("messaging", WindowInfo(1, app_id="firefox", url="https://app.slack.com/client/T1")),
    ("messaging", WindowInfo(1, app_id="firefox", url="https://web.whatsapp.com/")),
    ("messaging", WindowInfo(1, app_id="firefox", url="https://teams.microsoft.com/v2/")),
    ("webmail", WindowInfo(1, app_id="firefox", url="https://mail.google.com/mail/u/0/")),
    ("webmail", WindowInfo(1, app_id="firefox", url="https://outlook.live.com/mail/0/")),
    ("webmail", WindowInfo(1, app_id="firefox", url="https://mail.yahoo.com/d/folders/1")),
    ("webmail", WindowInfo(1, app_id="firefox", url="https://mail.proton.me/u/0/inbox")),
    ("webmail", WindowInfo(1, app_id="chrome", title="Inbox (3) - jo@gmail.com - Gmail")),
    ("banking", WindowInfo(1, app_id="firefox", url="https://www.chase.com/personal")),
    ("banking", WindowInfo(1, app_id="firefox", url="https://onlinebanking.mybank.example/")),
    ("banking", WindowInfo(1, app_id="firefox", url="https://secure.example-banking.de/")),
    ("banking", WindowInfo(1, app_id="firefox", title="Online Banking - Example Bank")),
    ("health", WindowInfo(1, app_id="firefox", url="https://mychart.example-hospital.org/")),
    ("health", WindowInfo(1, app_id="firefox", url="https://www.nhs.uk/conditions/")),
    ("health", WindowInfo(1, app_id="firefox", title="MyChart - Test Results")),
    ("password_manager", WindowInfo(1, app_id="KeePassXC")),
    ("password_manager", WindowInfo(1, process="1Password.exe")),
    ("password_manager", WindowInfo(1, app_id="Bitwarden")),
    ("password_manager", WindowInfo(1, app_id="firefox", url="https://lastpass.com/vault/")),
    ("private_browsing", WindowInfo(1, app_id="chrome", title="New Tab - Chrome (Incognito)")),
    ("private_browsing", WindowInfo(1, app_id="firefox", title="Mozilla Firefox Private Browsing")),
    ("private_browsing", WindowInfo(1, app_id="msedge", title="Docs - [InPrivate] - Edge")),
    ("private_browsing", WindowInfo(1, process="private_browsing.exe")),
    ("private_browsing", WindowInfo(1, app_id="firefox", role="browser-private")),
    ("remote_desktop", WindowInfo(1, app_id="org.remmina.Remmina")),
    ("remote_desktop", WindowInfo(1, process="xfreerdp")),
    ("remote_desktop", WindowInfo(1, app_id="Vncviewer")),
    ("remote_desktop", WindowInfo(1, process="AnyDesk.exe")),
    ("remote_desktop", WindowInfo(1, app_id="TeamViewer")),
    ("screen_lock", WindowInfo(1, app_id="xscreensaver")),
    ("screen_lock", WindowInfo(1, process="light-locker")),
    ("screen_lock", WindowInfo(1, app_id="gnome-screensaver")),
    ("credential_prompt", WindowInfo(1, app_id="polkit-gnome-authentication-agent-1")),
    ("credential_prompt", WindowInfo(1, app_id="Pinentry")),
    ("credential_prompt", WindowInfo(1, process="ssh-askpass")),
    ("credential_prompt", WindowInfo(1, app_id="Gcr-prompter")),
    ("credential_prompt", WindowInfo(1, app_id="mystery", title="Authentication Required")),
    ("recorder", WindowInfo(1, app_id="apprentice")),
]


@pytest.mark.parametrize(("category", "window"), DENIED)
def test_when_context_is_private_then_it_is_denied(category, window):
    assert _category(window) == category


ALLOWED = [
    WindowInfo(1, app_id="code", title="main.py - apprentice - Visual Studio Code"),
    WindowInfo(1, app_id="firefox", url="https://docs.python.org/3/"),
    WindowInfo(1, app_id="firefox", url="https://databank-tools.example.com/"),
    WindowInfo(1, app_id="firefox", url="https://notgmail.com/"),
    WindowInfo(1, app_id="firefox", url="https://outlook.office.com/mail/"),
    WindowInfo(1, app_id="firefox", title="Healthcheck dashboard - Grafana"),
    WindowInfo(1, app_id="libreoffice", title="budget.ods - LibreOffice Calc"),
    WindowInfo(1),
]


@pytest.mark.parametrize("window", ALLOWED)
def test_when_context_is_ordinary_work_then_it_is_not_denied(window):
    assert _category(window) is None
