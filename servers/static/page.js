// What every module of the page shares: this page's id, building elements, fetching JSON, and
// the status line. Text goes into elements with textContent only: data is never markup.

/** This page's id: the WebSocket upgrade names it (see the handshake section), tabs count it. */
export const clientId = Math.random().toString(36).slice(2, 10);

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function formatMs(ms) {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

export async function fetchJson(url, options) {
  const response = await fetch(url, { cache: "no-store", ...options });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** One line under the toolbar: what the last control did wrong (empty: nothing). */
export function showStatus(text) {
  document.getElementById("page-status").textContent = text;
}
