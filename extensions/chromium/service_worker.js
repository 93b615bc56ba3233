// apprentice service worker: one native-messaging port to the local agent (host
// com.apprentice.agent), window and active-tab state, and the reports of the content scripts.
// Only the active tab of each window is reported; incognito windows are reported as incognito
// with no URL, and nothing from an incognito tab is ever forwarded.
"use strict";

const HOST = "com.apprentice.agent";
const PROTOCOL = 1;
const WINDOW_TYPES = ["normal", "popup", "app"];
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60000;
const STABLE_MS = 10000;

let port = null;
let backoffMs = FIRST_BACKOFF_MS;
// tab id -> the frame ids whose focused element is a credential field.
const credentialFrames = new Map();
// tab id -> page zoom factor, kept current so a click is forwarded without waiting for it.
const zoomByTab = new Map();

async function zoomOf(tabId) {
  if (zoomByTab.has(tabId)) return zoomByTab.get(tabId);
  let zoom = 1;
  try {
    zoom = (await chrome.tabs.getZoom(tabId)) || 1;
  } catch (_) {
    // Unknown zoom: assume 100 %.
  }
  zoomByTab.set(tabId, zoom);
  return zoom;
}

// Origin and path only: the query and fragment can hold tokens and search terms (the agent
// strips them again; it trusts nothing it receives).
function stripUrl(raw) {
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") return url.protocol;
    return url.origin + url.pathname;
  } catch (_) {
    return null;
  }
}

function post(message) {
  if (port === null) return;
  try {
    port.postMessage({ v: PROTOCOL, ...message });
  } catch (_) {
    // The port closed under us; onDisconnect reconnects.
  }
}

function hasCredentialFocus(tabId) {
  const frames = credentialFrames.get(tabId);
  return Boolean(frames && frames.size);
}

async function sendState() {
  if (port === null) return;
  let windows;
  try {
    windows = await chrome.windows.getAll({ populate: true, windowTypes: WINDOW_TYPES });
  } catch (_) {
    return;
  }
  let focused = -1;
  const out = [];
  for (const w of windows) {
    const tab = (w.tabs || []).find((t) => t.active);
    if (w.focused) focused = w.id;
    out.push({
      id: w.id,
      focused: Boolean(w.focused),
      incognito: Boolean(w.incognito),
      url: !w.incognito && tab && tab.url ? stripUrl(tab.url) : null,
      credential: Boolean(!w.incognito && tab && hasCredentialFocus(tab.id)),
      bounds: { left: w.left || 0, top: w.top || 0, width: w.width || 0, height: w.height || 0 },
    });
  }
  // An incognito window this extension may not see is simply absent: focused stays -1 and the
  // agent treats the focused browser window as private.
  post({ type: "state", focused, windows: out });
}

function connect() {
  let p;
  try {
    p = chrome.runtime.connectNative(HOST);
  } catch (_) {
    setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    return;
  }
  const since = Date.now();
  port = p;
  p.onMessage.addListener((message) => {
    if (message && message.type === "query") sendState();
  });
  p.onDisconnect.addListener(() => {
    void chrome.runtime.lastError; // read it, or Chrome logs it as unchecked
    if (port === p) port = null;
    if (Date.now() - since > STABLE_MS) backoffMs = FIRST_BACKOFF_MS;
    setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  });
  sendState();
}

async function forwardClick(message, tab) {
  const zoom = await zoomOf(tab.id);
  const dpr = Number(message.dpr) || 1;
  // screenX/Y are in DIPs; screen pixels per DIP is the device scale factor = dpr / zoom.
  // The element's offset and size are CSS pixels: times dpr gives screen pixels.
  const scale = dpr / zoom;
  const px = Number(message.screen.x) * scale;
  const py = Number(message.screen.y) * scale;
  post({
    type: "click",
    window: tab.windowId,
    element: message.element,
    credential: Boolean(message.credential),
    point: { x: Math.round(px), y: Math.round(py) },
    bounds: {
      x: Math.round(px + Number(message.offset.x) * dpr),
      y: Math.round(py + Number(message.offset.y) * dpr),
      width: Math.round(Number(message.size.width) * dpr),
      height: Math.round(Number(message.size.height) * dpr),
    },
  });
}

chrome.runtime.onMessage.addListener((message, sender) => {
  const tab = sender.tab;
  if (!tab || tab.incognito || !message || typeof message !== "object") return;
  if (message.kind === "focus") {
    const frames = credentialFrames.get(tab.id) || new Set();
    if (message.credential) frames.add(sender.frameId);
    else frames.delete(sender.frameId);
    credentialFrames.set(tab.id, frames);
    if (tab.active) {
      post({
        type: "focus",
        window: tab.windowId,
        credential: hasCredentialFocus(tab.id),
        element: message.element || null,
      });
    }
  } else if (message.kind === "click" && tab.active) {
    forwardClick(message, tab);
  }
});

chrome.tabs.onRemoved.addListener((tabId) => {
  credentialFrames.delete(tabId);
  zoomByTab.delete(tabId);
});
chrome.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (change.status === "loading") credentialFrames.delete(tabId); // a new document
  if (change.status === "complete") zoomOf(tabId);
  if ((change.url || change.status) && tab.active) sendState();
});
chrome.tabs.onZoomChange.addListener((info) => zoomByTab.set(info.tabId, info.newZoomFactor || 1));
chrome.tabs.onActivated.addListener((info) => {
  zoomOf(info.tabId);
  sendState();
});
chrome.windows.onFocusChanged.addListener(() => sendState(), { windowTypes: WINDOW_TYPES });
chrome.windows.onCreated.addListener(() => sendState(), { windowTypes: WINDOW_TYPES });
chrome.windows.onRemoved.addListener(() => sendState(), { windowTypes: WINDOW_TYPES });
chrome.windows.onBoundsChanged.addListener(() => sendState());
// Registering these makes Chrome start the worker with the profile, so the port opens early.
chrome.runtime.onStartup.addListener(() => {});
chrome.runtime.onInstalled.addListener(() => {});

connect();
