// Leaving a phone number or an e-mail address for a ticket (the subscribe_ticket API):
// shared by the ticket page and the remote-join page. The hub checks again; this only
// tells a typing mistake at once, in the resident's language.
window.nowservingContact = (() => {
  "use strict";
  const PHONE = /^\+[1-9][0-9]{6,14}$/; // E.164, as domain/notify.py checks it
  const EMAIL = /^[^\s@]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;

  // The form's fields as request bodies ({phone} and/or {email}), or the key of what is wrong.
  function read(form) {
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    const phone = value("phone");
    const email = value("email");
    let number = phone.replace(/[\s().-]/g, "");
    if (number.startsWith("00")) number = `+${number.slice(2)}`;
    // Without "+", a national number of the office's country (the hub adds its code).
    const national = Boolean(form.elements.phone?.dataset.country) && /^[0-9]{4,15}$/.test(number);
    if (phone && (phone.length > 40 || !(PHONE.test(number) || national))) return { error: "contact.bad_phone" };
    if (email && (email.length > 254 || !EMAIL.test(email))) return { error: "contact.bad_email" };
    const bodies = [];
    if (phone) bodies.push({ phone });
    if (email) bodies.push({ email });
    return { bodies };
  }

  const url = (token) => `/api/tickets/${encodeURIComponent(token)}/contacts`;

  // Send each body; the ticket's contacts (masked) once all are kept, else an error key.
  async function save(token, bodies) {
    let answer = { contacts: [] };
    for (const body of bodies) {
      let response;
      try {
        response = await fetch(url(token), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      } catch (_) {
        return { error: "contact.failed" };
      }
      answer = await response.json().catch(() => ({}));
      if (response.status === 422) return { error: body.phone ? "contact.bad_phone" : "contact.bad_email" };
      const known = { ticket_ended: "error.ticket_finished", sms_budget: "error.sms_budget" };
      if (!response.ok) return { error: known[answer.code] || "contact.failed" };
    }
    return answer;
  }

  // Forget the number and the address (a push subscription is the alert button's).
  async function stop(token) {
    let answer = { error: "contact.failed" };
    for (const channel of ["sms", "email"]) {
      try {
        const response = await fetch(`${url(token)}?channel=${channel}`, { method: "DELETE" });
        answer = response.ok ? await response.json() : { error: "contact.failed" };
      } catch (_) {
        answer = { error: "contact.failed" };
      }
    }
    return answer;
  }

  return { read, save, stop };
})();
