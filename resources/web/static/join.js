// Remote join: take a ticket for a line, then open its live page.
(() => {
  "use strict";
  const { lang, catalogs } = JSON.parse(document.getElementById("page-data").textContent);
  const t = (key) => (catalogs[lang] || {})[key] || (catalogs.en || {})[key];
  // One request id per line per page: a tap retried after a lost answer gets the same ticket.
  const requestId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  for (const button of document.querySelectorAll("button.join")) {
    const key = requestId();
    button.addEventListener("click", async () => {
      const error = document.getElementById("join-error");
      const form = document.getElementById("contact-form");
      const contact = form ? window.nowservingContact.read(form) : { bodies: [] };
      if (contact.error) { // told before a ticket is taken
        error.textContent = t(contact.error);
        error.hidden = false;
        return;
      }
      button.disabled = true; // one ticket per tap
      let response;
      for (let attempt = 0; ; attempt += 1) {
        try {
          response = await fetch("/api/join", {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": key },
            body: JSON.stringify({ line: button.dataset.line, lang }),
          });
          break;
        } catch (lost) {
          if (attempt >= 2) throw lost;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        // The ticket is taken: a contact the hub refuses can still be left on its page.
        if (contact.bodies.length) await window.nowservingContact.save(body.token, contact.bodies);
        window.location.assign(`/t/${encodeURIComponent(body.token)}?lang=${lang}`);
        return;
      }
      // An RFC 9457 problem: its `code` in the resident's language; its English `detail` is for staff.
      error.textContent = (body.code && t(`error.${body.code}`)) || t("kiosk.try_again");
      error.hidden = false;
      button.disabled = false;
    });
  }
})();
