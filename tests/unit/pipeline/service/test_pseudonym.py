"""Pseudonymisation: user names, host names, home paths and known ids are scrubbed."""

from __future__ import annotations

from apprentice.pipeline.service.pseudonym import (
    Scrubber,
    coarse_month,
    contributor_pseudonym,
    is_internal_host,
)


def _scrubber(*texts: str) -> Scrubber:
    scrub = Scrubber({"c-4711": "<CONTRIBUTOR>", "dev-99aa": "<DEVICE>"})
    scrub.learn(texts)
    return scrub


def test_home_folders_lose_the_user_name_on_every_platform() -> None:
    s = _scrubber()
    assert s.scrub("open /home/alice/report.odt") == "open /home/<USER>/report.odt"
    assert s.scrub("/Users/Bob.Smith/Desktop") == "/Users/<USER>/Desktop"
    assert s.scrub(r"C:\Users\carol\Documents\x.docx") == r"C:\Users\<USER>\Documents\x.docx"
    assert s.scrub("cd ~dave/src") == "cd ~<USER>/src"


def test_a_name_learnt_anywhere_is_scrubbed_everywhere_in_the_session() -> None:
    s = _scrubber("alice@build-07: ~/src", "/home/alice/notes")
    assert s.scrub("alice — zsh") == "<USER> — zsh"
    assert s.scrub("deploy to build-07 now") == "deploy to <HOST> now"
    assert s.scrub("Malice in wonderland") == "Malice in wonderland"  # whole words only


def test_shell_prompts_unc_paths_and_internal_url_hosts() -> None:
    s = _scrubber()
    assert s.scrub("root@db-primary:/var/log") == "<USER>@<HOST>:/var/log"
    assert s.scrub(r"\\fileserver\share\q3.xlsx") == r"\\<HOST>\share\q3.xlsx"
    assert s.scrub_url("http://wiki.corp/home/erin/page") == "http://<HOST>/home/<USER>/page"
    assert s.scrub_url("https://10.0.0.5:8443/x") == "https://<HOST>:8443/x"
    assert s.scrub_url("https://github.com/org/repo") == "https://github.com/org/repo"
    assert s.scrub_url("https://frank:pw@example.com/") == "https://example.com/"


def test_known_ids_are_replaced_literally() -> None:
    s = _scrubber()
    assert s.scrub("ticket for c-4711 on dev-99aa") == "ticket for <CONTRIBUTOR> on <DEVICE>"


def test_emails_are_left_to_the_redactor_not_mangled() -> None:
    s = _scrubber()
    assert s.scrub("mail alice.smith@example.com") == "mail alice.smith@example.com"


def test_internal_hosts() -> None:
    assert all(
        is_internal_host(h) for h in ("intranet", "localhost", "nas.local", "x.internal", "192.168.1.4")
    )
    assert not any(is_internal_host(h) for h in ("example.com", "docs.python.org"))


def test_pseudonyms_are_stable_per_dataset_and_differ_across_datasets() -> None:
    key = b"\x01" * 32
    a = contributor_pseudonym(key, "ds1", "c-4711")
    assert a == contributor_pseudonym(key, "ds1", "c-4711") and a.startswith("p-") and "4711" not in a
    assert a != contributor_pseudonym(key, "ds2", "c-4711")
    assert a != contributor_pseudonym(key, "ds1", "c-4712")


def test_dates_are_coarsened_to_the_month() -> None:
    assert coarse_month(1_767_225_600 * 10**9 + 5) == "2026-01"
    assert coarse_month(None) is None
