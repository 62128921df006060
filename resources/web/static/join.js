// Remote join: take a ticket for a line, then open its live page.
(() => {
  "use strict";
  const { lang } = JSON.parse(document.getElementById("page-data").textContent);
  for (const button of document.querySelectorAll("button.join")) {
    button.addEventListener("click", async () => {
      button.disabled = true; // one ticket per tap
      const response = await fetch("/api/join", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ line: button.dataset.line, lang }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        window.location.assign(`/t/${encodeURIComponent(body.token)}?lang=${lang}`);
        return;
      }
      const error = document.getElementById("join-error");
      error.textContent = body.detail || response.statusText;  // an RFC 9457 problem
      error.hidden = false;
      button.disabled = false;
    });
  }
})();
