// A ticket the hub does not know yet: its kiosk printed it while cut off and will send it
// when it reconnects. Ask again, less and less often (2 s doubling to 30 s, with jitter),
// and open the live page as soon as the hub knows the ticket.
(() => {
  "use strict";
  const { token, lang, catalogs } = JSON.parse(document.getElementById("page-data").textContent);
  const FIRST_MS = 2000;
  const MAX_MS = 30000;
  let delay = FIRST_MS;

  function checked() {
    const time = new Date().toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    const text = (catalogs[lang] || {})["phone.updated"] || (catalogs.en || {})["phone.updated"] || "";
    document.getElementById("updated").textContent = text.split("{time}").join(time);
  }

  async function check() {
    try {
      const response = await fetch(`/api/tickets/${encodeURIComponent(token)}`, { cache: "no-store" });
      if (response.ok || response.status === 410) {  // known now, or gone: the server says which
        window.location.reload();
        return;
      }
    } catch (_) {
      // the hub or the guest Wi-Fi is away: try again later
    }
    checked();
    delay = Math.min(delay * 2, MAX_MS);
    setTimeout(check, delay * (0.8 + Math.random() * 0.4));
  }

  checked();
  setTimeout(check, delay);
})();
