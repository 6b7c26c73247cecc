// Panel feature: the newest messages received, newest first, each with its id and latency.
// A message's text is data: placed with textContent, never parsed as markup.

import { element, formatMs } from "./page.js";

const MESSAGES_SHOWN = 30;

export default {
  mount() {}, // the list is part of the panel's template (index.html)

  message(panel, message, latencyMs) {
    const list = panel.find(".messages");
    const item = element("li");
    item.dataset.id = message.id;
    item.append(
      element("span", "message-text", message.text),
      element("span", "message-meta", `#${message.id} · ${formatMs(latencyMs)}`),
    );
    list.prepend(item);
    while (list.childElementCount > MESSAGES_SHOWN) list.lastElementChild.remove();
  },

  reset(panel) {
    panel.find(".messages").replaceChildren();
  },
};
