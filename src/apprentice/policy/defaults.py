"""The built-in denylist: contexts that are never captured, whatever the policy allows.

DESIGN promise 1: messaging, personal email, banking, health, password managers,
private browsing, remote desktops, screen locks, credential prompts and the recorder's
own UI are never captured even if allowlisted by mistake. A policy file can add to this
list but cannot remove from it; there is deliberately no switch for that.

Decisions recorded here (see ``docs/privacy.md``):

* **Work chat is messaging.** Slack, Microsoft Teams, Mattermost, Zulip, Rocket.Chat and
  Google Chat are denied like Signal or WhatsApp: they carry direct messages and the
  words of colleagues who did not consent to this recording. Video meetings (Zoom, Meet)
  are denied for the same reason.
* **Webmail means personal webmail.** Work mail (e.g. ``outlook.office.com``) is the
  organisation's decision through its allowlist.
* **Banking and health** are matched by a list of well-known domains plus host-name
  labels that name the purpose (``onlinebanking.``, ``mychart.``, ``patientportal.``);
  labels are matched whole so that ``databank-tools.example`` is not denied.
* **Private browsing** is recognised by window titles and, on Windows, by Firefox's
  separate private-browsing process. A browser that does not say so in its title cannot
  be told apart; ``docs/privacy.md`` lists this limit.

The lists are data, matched by :mod:`apprentice.policy.match`; this module does no I/O.
"""

from __future__ import annotations

import re

from apprentice.policy.match import AppRule, DomainRule, RuleSet

_I = re.IGNORECASE


def _apps(*names: str) -> tuple[AppRule, ...]:
    """Each name as an app id, a window class and a process name (any one matches)."""
    rules: list[AppRule] = []
    for name in names:
        rules += [AppRule(app_id=name), AppRule(window_class=name), AppRule(process=name)]
    return tuple(rules)


def _domains(*names: str) -> tuple[DomainRule, ...]:
    return tuple(DomainRule(n) for n in names)


def _patterns(*regexes: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r, _I) for r in regexes)


def _labels(*words: str) -> tuple[re.Pattern[str], ...]:
    """Host patterns that match a whole host label (between dots or hyphens)."""
    return tuple(re.compile(rf"(?:^|[.-])(?:{w})(?:[.-]|$)", _I) for w in words)


MESSAGING = RuleSet(
    apps=_apps(
        "signal", "signal-desktop", "org.signal.signal", "telegram", "telegram-desktop",
        "telegramdesktop", "org.telegram.desktop", "whatsapp", "whatsapp-desktop",
        "whatsdesk", "discord", "com.discordapp.discord", "element", "element-desktop",
        "im.riot.riot", "pidgin", "hexchat", "slack", "com.slack.slack",
        "com.tinyspeck.slackmacgap", "teams", "ms-teams", "teams-for-linux",
        "com.microsoft.teams", "mattermost", "mattermost-desktop", "zulip",
        "rocket.chat", "skype", "skypeforlinux", "zoom", "us.zoom.xos", "wire",
        "threema", "viber", "messenger", "wechat", "weechat", "irssi", "quassel",
        "konversation", "gajim", "dino", "kopete", "fractal", "nheko", "thunderbird-chat",
    ),
    domains=_domains(
        "web.whatsapp.com", "whatsapp.com", "web.telegram.org", "telegram.org",
        "discord.com", "discordapp.com", "app.element.io", "element.io", "slack.com",
        "teams.microsoft.com", "teams.live.com", "chat.google.com", "messenger.com",
        "web.skype.com", "zoom.us", "meet.google.com", "signal.org", "wire.com",
        "chat.zulip.org", "zulipchat.com", "mattermost.com",
    ),
    titles=_patterns(r"\bWhatsApp\b", r"\| Microsoft Teams$", r"^Slack \|"),
)

WEBMAIL = RuleSet(
    domains=_domains(
        "gmail.com", "mail.google.com", "inbox.google.com", "outlook.live.com",
        "hotmail.com", "live.com", "mail.yahoo.com", "yahoo.com", "proton.me",
        "protonmail.com", "mail.proton.me", "tutanota.com", "tuta.com", "tuta.io",
        "icloud.com", "mail.aol.com", "aol.com", "gmx.net", "gmx.com", "gmx.de",
        "web.de", "mail.ru", "mail.yandex.com", "mail.yandex.ru", "fastmail.com",
        "hey.com", "posteo.de", "mailbox.org", "zoho.eu", "mail.com", "orange.fr",
        "libero.it", "seznam.cz", "o2.pl", "wp.pl",
    ),
    titles=_patterns(r" - Gmail$", r"\bInbox\b.* - Gmail\b", r"\bProton Mail\b",
                     r"\bYahoo Mail\b", r"Outlook\.com\b"),
)

BANKING = RuleSet(
    domains=_domains(
        "paypal.com", "venmo.com", "chase.com", "bankofamerica.com", "wellsfargo.com",
        "citi.com", "citibank.com", "capitalone.com", "usbank.com", "pnc.com",
        "americanexpress.com", "discover.com", "schwab.com", "fidelity.com",
        "vanguard.com", "etrade.com", "robinhood.com", "coinbase.com", "binance.com",
        "kraken.com", "revolut.com", "wise.com", "n26.com", "monzo.com", "starlingbank.com",
        "hsbc.com", "hsbc.co.uk", "barclays.co.uk", "lloydsbank.com", "natwest.com",
        "santander.com", "santander.co.uk", "ing.com", "ing.de", "ing.nl", "rabobank.nl",
        "abnamro.nl", "bnpparibas.com", "credit-agricole.fr",
        "societegenerale.fr", "deutsche-bank.de", "commerzbank.de", "sparkasse.de",
        "dkb.de", "comdirect.de", "postbank.de", "unicredit.it", "intesasanpaolo.com",
        "bbva.es", "caixabank.es", "ubs.com", "credit-suisse.com", "nordea.com",
        "danskebank.dk", "klarna.com",
    ),
    host_patterns=_labels(
        r"banking", r"onlinebanking", r"netbanking", r"ebanking", r"ibanking",
        r"mybanking", r"onlinebank", r"netbank",
    ),
    titles=_patterns(r"\b(?:online|internet|net|mobile)[ -]?banking\b", r"\be-?banking\b"),
)

HEALTH = RuleSet(
    domains=_domains(
        "mychart.com", "mychart.org", "patientportal.com", "healthcare.gov", "nhs.uk",
        "doctolib.fr", "doctolib.de", "zocdoc.com", "teladoc.com", "webmd.com",
        "23andme.com", "goodrx.com", "betterhelp.com", "talkspace.com", "followmyhealth.com",
        "patient.info", "myhealth.va.gov", "kaiserpermanente.org", "cvs.com",
        "walgreens.com", "onemedical.com",
    ),
    host_patterns=_labels(
        r"mychart", r"patient-?portal", r"patients?", r"myhealth", r"telehealth",
        r"e-?health-?record", r"health-?records?",
    ),
    titles=_patterns(r"\bMyChart\b", r"\bpatient portal\b", r"\bmedical records?\b"),
)

PASSWORD_MANAGER = RuleSet(
    apps=_apps(
        "keepassxc", "org.keepassxc.keepassxc", "keepass", "keepass2", "keepassx",
        "1password", "com.1password.1password", "com.agilebits.onepassword7",
        "bitwarden", "com.bitwarden.desktop", "lastpass", "dashlane", "enpass",
        "nordpass", "keeper", "roboform", "seahorse", "org.gnome.seahorse.application",
        "kwalletmanager5", "kwalletmanager", "com.apple.keychainaccess",
        "com.apple.passwords", "gopass", "qtpass", "passwordsafe", "gnome-passwordsafe",
        "org.gnome.world.secrets", "secrets",
    ),
    domains=_domains(
        "1password.com", "bitwarden.com", "vault.bitwarden.com", "lastpass.com",
        "dashlane.com", "keepersecurity.com", "nordpass.com", "passwords.google.com",
        "passwords.google",
    ),
    titles=_patterns(r"\bKeePassXC\b", r"\b1Password\b", r"\bBitwarden\b", r"\bLastPass\b"),
)

PRIVATE_BROWSING = RuleSet(
    apps=(AppRule(process="private_browsing"),),  # Firefox's private-window process
    titles=_patterns(
        r"\(Incognito\)", r"\bIncognito\b", r"Private Browsing", r"\bInPrivate\b",
        r"\bPrivate Window\b", r"- Private$", r"\[Private\]",
    ),
    roles=_patterns(r"incognito", r"private"),
)

REMOTE_DESKTOP = RuleSet(
    apps=_apps(
        "remmina", "org.remmina.remmina", "xfreerdp", "wlfreerdp", "sdl-freerdp",
        "freerdp", "rdesktop", "vncviewer", "tigervnc", "xtightvncviewer",
        "realvnc-vncviewer", "anydesk", "teamviewer", "rustdesk", "mstsc",
        "msrdc", "com.microsoft.rdc.macos", "krdc", "vinagre", "gnome-connections",
        "org.gnome.connections", "x2goclient", "nxplayer", "nomachine", "parsec",
        "parsecd", "virt-viewer", "remote-viewer", "spicy", "chrome-remote-desktop",
        "com.teamviewer.teamviewer", "splashtop",
    ),
    domains=_domains("remotedesktop.google.com", "anydesk.com", "teamviewer.com"),
    titles=_patterns(r"Remote Desktop Connection", r"\bTeamViewer\b", r"\bAnyDesk\b"),
)

SCREEN_LOCK = RuleSet(
    apps=_apps(
        "xscreensaver", "light-locker", "gnome-screensaver", "i3lock", "swaylock",
        "xsecurelock", "slock", "xlock", "xtrlock", "kscreenlocker_greet",
        "cinnamon-screensaver", "mate-screensaver", "xfce4-screensaver",
        "lockapp", "logonui", "loginwindow", "com.apple.loginwindow", "lightdm-gtk-greeter",
        "gdm", "sddm-greeter",
    ),
)

CREDENTIAL_PROMPT = RuleSet(
    apps=_apps(
        "pinentry", "pinentry-gtk-2", "pinentry-gtk", "pinentry-gnome3", "pinentry-qt",
        "pinentry-qt5", "pinentry-mac", "ssh-askpass", "ssh-askpass-gnome", "ksshaskpass",
        "x11-ssh-askpass", "gcr-prompter", "gcr-viewer", "polkit-gnome-authentication-agent-1",
        "polkit-kde-authentication-agent-1", "polkit-mate-authentication-agent-1",
        "lxpolkit", "lxqt-policykit-agent", "xfce-polkit", "mate-polkit", "hyprpolkitagent",
        "kdesu", "kdesudo", "gksu", "gksudo", "pkexec", "credentialuibroker", "consent",
        "securityagent", "com.apple.securityagent", "coreautha", "com.apple.coreautha",
    ),
    titles=_patterns(
        r"Authentication Required", r"^Authenticate$", r"Unlock (?:Login )?Keyring",
        r"Enter (?:your )?(?:passphrase|password|PIN)", r"Passphrase", r"\bpinentry\b",
        r"^Windows Security$", r"User Account Control", r"\bsudo\b.*password",
    ),
)

RECORDER = RuleSet(apps=_apps("apprentice", "apprentice-ui", "apprentice-portal"))

#: Category → rules, checked in this order; the category becomes the reason code
#: ``denylisted:<category>``.
DENYLIST: tuple[tuple[str, RuleSet], ...] = (
    ("recorder", RECORDER),
    ("screen_lock", SCREEN_LOCK),
    ("credential_prompt", CREDENTIAL_PROMPT),
    ("password_manager", PASSWORD_MANAGER),
    ("private_browsing", PRIVATE_BROWSING),
    ("remote_desktop", REMOTE_DESKTOP),
    ("messaging", MESSAGING),
    ("webmail", WEBMAIL),
    ("banking", BANKING),
    ("health", HEALTH),
)
