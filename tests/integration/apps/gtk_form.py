"""A small GTK 3 form, the accessible application under test (run with the system python3).

Not part of apprentice: it stands in for a real work application with a menu, a combo box,
a button and a password field, so that the recorder's AT-SPI backend meets real widgets.
Prints one line per user action on stdout (so the test knows a click arrived).

    /usr/bin/python3 gtk_form.py TITLE WM_CLASS X Y [WIDTH HEIGHT [no-password]]

(bench/recorder.py uses the last form: a bigger window without the password field.)
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def main() -> None:
    title, wm_class, x, y = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    window = Gtk.Window(title=title)
    window.set_wmclass(wm_class.lower(), wm_class)
    window.move(x, y)
    width, height = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (420, 300)
    with_password = "no-password" not in sys.argv[7:]
    window.set_default_size(width, height)
    window.connect("destroy", Gtk.main_quit)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
    window.add(box)

    bar = Gtk.MenuBar()
    file_item = Gtk.MenuItem(label="Reports")
    menu = Gtk.Menu()
    for label in ("Export summary", "Archive quarter"):
        item = Gtk.MenuItem(label=label)
        item.connect("activate", lambda w, label=label: say(f"menu {label}"))
        menu.append(item)
    file_item.set_submenu(menu)
    bar.append(file_item)
    box.pack_start(bar, False, False, 0)

    combo = Gtk.ComboBoxText()
    for option in ("Weekly cadence", "Monthly cadence", "Quarterly cadence"):
        combo.append_text(option)
    combo.set_active(0)
    combo.connect("changed", lambda c: say(f"combo {c.get_active_text()}"))
    box.pack_start(combo, False, False, 0)

    user = Gtk.Entry()
    user.set_placeholder_text("user")
    user.get_accessible().set_name("Account user")
    box.pack_start(user, False, False, 0)
    secret = Gtk.Entry()
    secret.set_visibility(False)
    secret.get_accessible().set_name("Account password")
    secret.connect("changed", lambda e: say(f"password length {len(e.get_text())}"))
    if with_password:
        box.pack_start(secret, False, False, 0)

    button = Gtk.Button(label="Submit request")
    button.connect("clicked", lambda b: say("button Submit request"))
    box.pack_start(button, False, False, 0)
    box.pack_start(Gtk.Label(label=f"{title} body text"), True, True, 0)

    window.show_all()
    widgets = {"menu": file_item, "combo": combo, "user": user, "password": secret, "button": button}
    GLib.timeout_add(300, lambda: report_ready(window, widgets))
    Gtk.main()


def report_ready(window, widgets) -> bool:
    """Print each widget's centre in root coordinates, then "ready"."""
    _, ox, oy = window.get_window().get_origin()
    for name, widget in widgets.items():
        box = widget.get_allocation()
        say(f"at {name} {ox + box.x + box.width // 2} {oy + box.y + box.height // 2} {box.height}")
    say("ready")
    return False


def say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    main()
