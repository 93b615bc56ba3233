// apprentice content script: the element under the pointer and whether a credential field has
// focus. It reads roles, accessible names and geometry only: never page text beyond an
// accessible name, never a form value. Everything goes to the service worker, which forwards
// reports for the active tab only.
"use strict";

(() => {
  const MAX_NAME = 100;
  const MAX_PATH = 6;
  const CREDENTIAL_AUTOCOMPLETE = /\b(current-password|new-password|one-time-code)\b/i;
  // Name/id hints for credential fields that are not type=password (PINs, one-time codes).
  const CREDENTIAL_HINT = /(pass(word|wd|phrase|code)?|pwd|\bpin\b|otp|totp|2fa|mfa|secret|cvc|cvv|security[-_ ]?code)/i;
  const NOT_TEXT_INPUTS = new Set([
    "hidden", "checkbox", "radio", "submit", "button", "reset", "image", "file", "range", "color",
  ]);
  // Roles worth reporting as the click target; a click on a <span> inside a button is a click
  // on the button.
  const INTERACTIVE = new Set([
    "button", "link", "checkbox", "radio", "combobox", "listbox", "option", "textbox",
    "searchbox", "spinbutton", "slider", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "treeitem", "gridcell", "columnheader", "rowheader", "password",
  ]);
  // Roles whose accessible name may come from their content (WAI-ARIA "name from content").
  const NAME_FROM_CONTENT = new Set([
    "button", "link", "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "option",
    "heading", "switch", "treeitem", "checkbox", "radio", "columnheader", "rowheader",
  ]);
  const SKIP_IN_NAME = new Set(["INPUT", "SELECT", "TEXTAREA", "OPTION", "SCRIPT", "STYLE", "NOSCRIPT"]);

  function isCredential(el) {
    if (!(el instanceof Element)) return false;
    const tag = el.tagName;
    if (tag !== "INPUT" && tag !== "TEXTAREA") return false;
    const type = (el.getAttribute("type") || "text").toLowerCase();
    if (tag === "INPUT" && type === "password") return true;
    if (tag === "INPUT" && NOT_TEXT_INPUTS.has(type)) return false;
    if (CREDENTIAL_AUTOCOMPLETE.test(el.getAttribute("autocomplete") || "")) return true;
    return CREDENTIAL_HINT.test(`${el.getAttribute("name") || ""} ${el.id || ""}`);
  }

  function implicitRole(el) {
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute("type") || "text").toLowerCase();
    switch (tag) {
      case "a": case "area": return el.hasAttribute("href") ? "link" : "generic";
      case "button": return "button";
      case "select": return el.multiple || el.size > 1 ? "listbox" : "combobox";
      case "option": return "option";
      case "textarea": return "textbox";
      case "img": return el.getAttribute("alt") === "" ? "presentation" : "img";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
      case "summary": return "button";
      case "li": return "listitem";
      case "ul": case "ol": return "list";
      case "nav": return "navigation";
      case "main": return "main";
      case "dialog": return "dialog";
      case "table": return "table";
      case "tr": return "row";
      case "td": return "cell";
      case "th": return "columnheader";
      case "input":
        if (isCredential(el) && type === "password") return "password";
        if (["button", "submit", "reset", "image"].includes(type)) return "button";
        if (type === "checkbox") return "checkbox";
        if (type === "radio") return "radio";
        if (type === "range") return "slider";
        if (type === "number") return "spinbutton";
        if (type === "search") return el.hasAttribute("list") ? "combobox" : "searchbox";
        if (NOT_TEXT_INPUTS.has(type)) return "generic";
        return el.hasAttribute("list") ? "combobox" : "textbox";
      default:
        return el.isContentEditable ? "textbox" : "generic";
    }
  }

  function roleOf(el) {
    const explicit = (el.getAttribute("role") || "").trim().toLowerCase().split(/\s+/)[0];
    return explicit || implicitRole(el);
  }

  function clip(text) {
    const flat = (text || "").replace(/\s+/g, " ").trim();
    return flat.length > MAX_NAME ? flat.slice(0, MAX_NAME) : flat;
  }

  // Text of a node for naming, leaving out form controls (their values are never read) and
  // hidden parts.
  function textOf(node, budget = 400) {
    let out = "";
    const walk = (n) => {
      if (out.length >= budget) return;
      if (n.nodeType === Node.TEXT_NODE) { out += n.nodeValue; return; }
      if (n.nodeType !== Node.ELEMENT_NODE) return;
      if (SKIP_IN_NAME.has(n.tagName) || n.getAttribute("aria-hidden") === "true") return;
      if (n.tagName === "IMG") { out += ` ${n.getAttribute("alt") || ""} `; return; }
      for (const child of n.childNodes) walk(child);
      if (getComputedStyle(n).display !== "inline") out += " ";
    };
    walk(node);
    return out;
  }

  function byIds(el, attr) {
    const ids = (el.getAttribute(attr) || "").split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id)).filter(Boolean);
  }

  function accessibleName(el, role) {
    const labelledBy = byIds(el, "aria-labelledby");
    if (labelledBy.length) return clip(labelledBy.map((n) => textOf(n)).join(" "));
    const label = el.getAttribute("aria-label");
    if (label && label.trim()) return clip(label);
    const tag = el.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      const type = (el.getAttribute("type") || "").toLowerCase();
      // A button's value attribute is its label, not something a person typed.
      if (tag === "INPUT" && ["button", "submit", "reset"].includes(type)) {
        const v = el.getAttribute("value");
        if (v) return clip(v);
      }
      if (tag === "INPUT" && type === "image") return clip(el.getAttribute("alt") || "");
      if (el.labels && el.labels.length) return clip(Array.from(el.labels, (l) => textOf(l)).join(" "));
    }
    if (tag === "IMG" || tag === "AREA") {
      const alt = el.getAttribute("alt");
      if (alt) return clip(alt);
    }
    if (NAME_FROM_CONTENT.has(role)) {
      const text = clip(textOf(el));
      if (text) return text;
    }
    const title = el.getAttribute("title");
    if (title) return clip(title);
    const placeholder = el.getAttribute("placeholder");
    return placeholder ? clip(placeholder) : "";
  }

  function states(el, role) {
    const out = [];
    if (el === document.activeElement) out.push("focused");
    if (el.getAttribute("aria-expanded") === "true") out.push("expanded");
    if (el.checked === true || el.getAttribute("aria-checked") === "true" ||
        el.getAttribute("aria-pressed") === "true") out.push("checked");
    if (el.getAttribute("aria-selected") === "true" || (el.tagName === "OPTION" && el.selected)) {
      out.push("selected");
    }
    if (role === "textbox" || role === "searchbox" || role === "password" || el.isContentEditable) {
      out.push("editable");
    }
    if (isCredential(el)) out.push("password");
    return out;
  }

  function target(el) {
    let node = el;
    for (let depth = 0; node && depth < 12; depth++, node = node.parentElement) {
      if (INTERACTIVE.has(roleOf(node))) return node;
    }
    return el;
  }

  function ancestors(el) {
    const path = [];
    for (let n = el.parentElement; n && path.length < MAX_PATH; n = n.parentElement) {
      const role = roleOf(n);
      if (role === "generic" || role === "presentation" || role === "none") continue;
      // Ancestors carry only an explicit label, never their content.
      const name = clip(n.getAttribute("aria-label") || "");
      path.unshift(name ? { role, name } : { role });
    }
    return path;
  }

  function describe(el) {
    const role = roleOf(el);
    const name = accessibleName(el, role);
    const info = { role, tag: el.tagName.toLowerCase(), states: states(el, role), path: ancestors(el) };
    if (name) info.name = name;
    return info;
  }

  function send(message) {
    try {
      chrome.runtime.sendMessage(message).catch(() => {});
    } catch (_) {
      // The extension was reloaded or removed; this page's script is orphaned.
    }
  }

  // Capture phase, so a page that stops propagation cannot hide a click.
  addEventListener("pointerdown", (event) => {
    if (!event.isTrusted || !(event.target instanceof Element)) return;
    const el = target(event.target);
    const r = el.getBoundingClientRect();
    // The pointer is known in screen DIPs (screenX) and CSS pixels (clientX); the element's
    // offset from the pointer is in CSS pixels. The service worker turns both into screen
    // pixels (it knows the zoom), see docs/browser.md.
    send({
      kind: "click",
      element: describe(el),
      credential: isCredential(el),
      screen: { x: event.screenX, y: event.screenY },
      offset: { x: r.left - event.clientX, y: r.top - event.clientY },
      size: { width: r.width, height: r.height },
      dpr: devicePixelRatio,
    });
  }, { capture: true, passive: true });

  function reportFocus() {
    const el = document.activeElement;
    const focused = document.hasFocus() && el && el !== document.body && el !== document.documentElement &&
      el.tagName !== "IFRAME" && el.tagName !== "FRAME";
    send({
      kind: "focus",
      credential: Boolean(focused && isCredential(el)),
      element: focused ? describe(el) : null,
    });
  }

  addEventListener("focusin", () => reportFocus(), { capture: true, passive: true });
  // After focusout, activeElement is body until the next focusin: report once focus settled.
  addEventListener("focusout", () => setTimeout(reportFocus, 0), { capture: true, passive: true });
  addEventListener("focus", () => reportFocus(), { passive: true });
  document.addEventListener("visibilitychange", () => reportFocus(), { passive: true });
  // A field can be focused by autofocus before any listener saw it.
  addEventListener("DOMContentLoaded", () => reportFocus(), { passive: true });
})();
