// The teacher key: on a server shared beyond loopback, changing the publish rate (and the other
// controls that act for the whole class) needs the key the server printed at start. It travels
// in the URL's fragment (#key=...), which the browser never sends in a request line or Referer;
// the page sends it in the X-Pushlab-Key header. Students' pages, without it, read and chat.

const KEY = new URLSearchParams(location.hash.slice(1)).get("key");

/** Headers to add to a control's request: the key if this page was opened with one. */
export function teacherHeaders() {
  return KEY ? { "X-Pushlab-Key": KEY } : {};
}

/** Show the note when the server needs a key and this page has none. */
export function showTeacherNote(required) {
  const note = document.getElementById("teacher-note");
  if (note) note.hidden = !required || Boolean(KEY);
}
