// The view buttons: large type (for a projector) and the language, both remembered by this
// browser. They work before the server has answered, so they are set up first.

import { currentLanguage, setLanguage } from "./i18n.js";

export function setUpViewButtons() {
  const largeButton = document.getElementById("large-type");
  const applyLarge = (large) => {
    document.documentElement.classList.toggle("large", large);
    largeButton.setAttribute("aria-pressed", String(large));
  };
  applyLarge(localStorage.getItem("pushlab.large") === "1");
  largeButton.addEventListener("click", () => {
    const large = !document.documentElement.classList.contains("large");
    localStorage.setItem("pushlab.large", large ? "1" : "0");
    applyLarge(large);
  });
  document.getElementById("lang-switch").addEventListener("click", () => {
    const next = currentLanguage() === "en" ? "zh" : "en";
    localStorage.setItem("pushlab.lang", next);
    setLanguage(next);
  });
}
