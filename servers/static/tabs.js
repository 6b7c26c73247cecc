// Section: the 6-connection limit. This page counts its own tabs in this browser
// (BroadcastChannel) and warns once six are visible, before the limit bites.

import { onLanguageChange, t } from "./i18n.js";
import { clientId } from "./page.js";

const FORGET_AFTER_MS = 5000; // a tab not heard from for this long has gone
const ANNOUNCE_EVERY_MS = 2000;
const CONNECTIONS_PER_HOST = 6; // the browsers' HTTP/1.1 limit per scheme + host + port

function watchTabs() {
  const channel = new BroadcastChannel("pushlab-demo");
  const others = new Map(); // tab id → {visible, seenAt}
  const announce = () => channel.postMessage({ id: clientId, visible: !document.hidden });
  const render = () => {
    const now = Date.now();
    for (const [id, tab] of others) if (now - tab.seenAt > FORGET_AFTER_MS) others.delete(id);
    const tabs = [...others.values()];
    const visible = tabs.filter((tab) => tab.visible).length + (document.hidden ? 0 : 1);
    document.getElementById("tabs-open").textContent = t("tabsOpen", { count: tabs.length + 1 });
    document.getElementById("tabs-warning").hidden = visible < CONNECTIONS_PER_HOST;
  };
  channel.onmessage = ({ data }) => {
    if (data.gone) others.delete(data.id);
    else {
      if (!others.has(data.id)) announce();
      others.set(data.id, { visible: data.visible, seenAt: Date.now() });
    }
    render();
  };
  addEventListener("pagehide", () => channel.postMessage({ id: clientId, gone: true }));
  document.addEventListener("visibilitychange", announce);
  setInterval(() => {
    announce();
    render();
  }, ANNOUNCE_EVERY_MS);
  announce();
  render();
  onLanguageChange(render);
}

export default {
  mount() {
    if ("BroadcastChannel" in window) watchTabs();
  },
};
