// Booking: send the chosen slot and contact, then open the booking's own page; cancel there.
(() => {
  "use strict";
  const { lang, catalogs } = JSON.parse(document.getElementById("page-data").textContent);
  const t = (key) => (catalogs[lang] || {})[key] || (catalogs.en || {})[key];
  const error = document.getElementById("book-error");
  const refused = async (response) => {
    const body = await response.json().catch(() => ({}));
    // An RFC 9457 problem: its `code` in the resident's language; `detail` is for staff.
    error.textContent = (body.code && t(`error.${body.code}`)) || t("kiosk.try_again");
    error.hidden = false;
  };
  const form = document.getElementById("book");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      const data = new FormData(form);
      const start = Number(data.get("start"));
      const move = form.dataset.move; // a booking's token: give it this time instead
      const response = await fetch(move ? `/api/appointments/${encodeURIComponent(move)}/move` : "/api/appointments", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(
          move ? { start } : { line: form.dataset.line, start, contact: String(data.get("contact") || ""), lang },
        ),
      });
      if (response.ok) {
        const token = move || (await response.json()).token;
        window.location.assign(`/a/${encodeURIComponent(token)}?lang=${lang}`);
        return;
      }
      await refused(response);
      button.disabled = false;
    });
  }
  // "I'm here": check in through the link; a late resident reads why the ticket is a walk-in's.
  const here = document.getElementById("here");
  if (here) {
    here.addEventListener("click", async () => {
      here.disabled = true;
      const response = await fetch("/api/appointments/check-in", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: here.dataset.token }),
      });
      if (!response.ok) {
        await refused(response);
        here.disabled = false;
        return;
      }
      const answer = await response.json();
      if (!answer.late) {
        window.location.assign(answer.url);
        return;
      }
      const late = document.getElementById("here-late");
      late.textContent = answer.message;
      late.hidden = false;
      const ticket = document.getElementById("here-ticket");
      ticket.href = answer.url;
      ticket.hidden = false;
      here.hidden = true;
    });
  }
  const cancel = document.getElementById("cancel");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const response = await fetch(`/api/appointments/${encodeURIComponent(cancel.dataset.token)}`, {
        method: "DELETE",
      });
      if (response.ok) {
        window.location.reload();
        return;
      }
      await refused(response);
      cancel.disabled = false;
    });
  }
})();
