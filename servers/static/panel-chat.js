// Panel feature: chat. The text goes up through the panel's own client: a WebSocket frame on a
// full-duplex technique, a POST /messages on the others (the template's form says which).

export default {
  mount(panel) {
    panel.find(".chat").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = event.target.elements.text;
      const text = input.value;
      if (!text.trim()) return;
      input.value = "";
      panel.client.send(text);
    });
  },
};
