// The resident's ticket page: live over Server-Sent Events, alerts when it is their turn.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const { token, catalogs, lang } = data;
  const ALMOST = 2; // alert when this many (or fewer) are ahead
  const FINAL = new Set(["served", "left", "expired", "no_show"]);
  const $ = (id) => document.getElementById(id);
  let ticket = data.ticket;
  let warnedAlmost = ticket.ahead <= ALMOST;
  let alertsOn = false;
  let notificationsFail = false; // no service worker here (not HTTPS, or refused)
  let audio = null;
  let source = null;

  function t(key, values = {}) {
    let text = (catalogs[lang] || {})[key] || (catalogs.en || {})[key] || key;
    for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
    return text;
  }

  function waitText(tk) {
    if (!tk.wait_known) return t("common.no_counter_open");
    if (tk.wait_next) return t("common.wait_next");
    if (tk.wait_point === 0) return t("common.minutes_short", { high: Math.max(tk.wait_high, 1) });
    return t("common.minutes_about", { point: tk.wait_point, low: tk.wait_low, high: tk.wait_high });
  }

  function counterName() {
    return (ticket.counter_names || {})[lang] || ticket.counter_name || "";
  }

  function aheadText(count) {
    if (count === 0) return t("common.people_ahead_none");
    if (count === 1) return t("common.people_ahead_one");
    return t("common.people_ahead", { count });
  }

  function render() {
    const state = $("state");
    const waiting = ticket.status === "waiting";
    state.dataset.status = ticket.status;
    state.setAttribute("aria-live", ticket.status === "called" ? "assertive" : "polite");
    $("headline").textContent = t(`status.${ticket.status}`);
    const details = {
      called: t("phone.go_to_counter", { counter: counterName() }),
      served: t("phone.served"),
      no_show: t("phone.no_show"),
      left: t("phone.left"),
      expired: t("phone.expired"),
      waiting: ticket.ahead <= ALMOST && ticket.ahead > 0 ? t("phone.almost") : "",
    };
    $("detail").textContent = details[ticket.status] || "";
    $("ahead").textContent = waiting ? aheadText(ticket.ahead) : "";
    $("ahead").hidden = !waiting;
    $("wait").textContent = waiting ? waitText(ticket) : "";
    $("wait-row").hidden = !waiting;
    $("leave").hidden = !ticket.can_leave;
    if ($("contact")) $("contact").hidden = !["waiting", "called"].includes(ticket.status);
    renderAlerts();
    $("updated").textContent = t("phone.updated", { time: new Date().toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) });
    document.title = `${ticket.label} — ${t(`status.${ticket.status}`)}`;
  }

  // Notifications go through the service worker: Android Chrome refuses `new Notification`,
  // and only a worker's reach a locked phone. Browsers allow one on HTTPS (or localhost) only.
  const worker = "serviceWorker" in navigator
    ? navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready, () => null)
    : Promise.resolve(null);

  // "granted", "denied", "default" (not asked, or the question was dismissed), "unsupported".
  function permission() {
    if (notificationsFail || !("Notification" in window) || !("serviceWorker" in navigator)) return "unsupported";
    return Notification.permission;
  }

  // Promise an alert only when the phone will show one; else say so and what to do instead.
  function renderAlerts() {
    const final = FINAL.has(ticket.status);
    const allowed = permission();
    const blocked = allowed === "denied" || allowed === "unsupported" || (alertsOn && allowed !== "granted");
    $("notify").hidden = alertsOn || final;
    $("notify-on").hidden = !alertsOn || final || allowed !== "granted";
    $("notify-blocked").hidden = final || !blocked;
    $("notify-blocked").textContent = t(allowed === "unsupported" ? "phone.notify_unsupported" : "phone.notify_blocked");
  }

  function beep(pattern) {
    if (!audio) return;
    let at = audio.currentTime;
    for (const ms of pattern) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.3;
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + ms / 1000);
      at += (ms + 150) / 1000;
    }
  }

  function alertResident(urgent) {
    const message = urgent ? t("phone.go_to_counter", { counter: counterName() }) : t("phone.almost");
    if (navigator.vibrate) navigator.vibrate(urgent ? [400, 150, 400, 150, 800] : [250]);
    beep(urgent ? [400, 400, 700] : [250]);
    if (alertsOn && permission() === "granted" && document.hidden) showNotification(urgent, message);
    document.body.dataset.alert = urgent ? "called" : "almost";
  }

  async function showNotification(urgent, message) {
    const registration = await worker;
    try {
      // The same tag as the hub's push for this ticket: one notification, not two.
      await registration.showNotification(`${ticket.label}: ${t(`status.${ticket.status}`)}`, {
        body: message, lang, tag: `ticket ${ticket.label}`, renotify: true, requireInteraction: urgent,
        vibrate: urgent ? [400, 150, 400, 150, 800] : [250], data: { url: window.location.href },
      });
    } catch (_) { // no worker after all
      notificationsFail = true;
      renderAlerts();
    }
  }

  // Push (the office configured it): the phone is told even with this page closed.
  function fromB64url(text) {
    const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function subscribePush() {
    const registration = await worker;
    if (!data.pushKey || !registration || !("pushManager" in registration)) return;
    const options = { userVisibleOnly: true, applicationServerKey: fromB64url(data.pushKey) };
    let subscription;
    try {
      subscription = await registration.pushManager.subscribe(options);
    } catch (_) { // one made with another key (the hub's changed): replace it
      const old = await registration.pushManager.getSubscription();
      if (!old) return;
      await old.unsubscribe();
      subscription = await registration.pushManager.subscribe(options);
    }
    await fetch(`/api/tickets/${encodeURIComponent(token)}/contacts`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ push: subscription.toJSON() }),
    });
  }

  function update(next) {
    const before = ticket;
    ticket = next;
    render();
    if (next.status === "called" && (before.status !== "called" || next.label !== before.label)) alertResident(true);
    if (next.status === "waiting" && next.ahead <= ALMOST && !warnedAlmost) {
      warnedAlmost = true;
      alertResident(false);
    }
    if (FINAL.has(next.status) && source) source.close();
  }

  function connect() {
    source = new EventSource(`/api/tickets/${encodeURIComponent(token)}/events`);
    source.addEventListener("ticket", (event) => update(JSON.parse(event.data)));
    source.addEventListener("open", () => { $("offline").hidden = true; });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED || !FINAL.has(ticket.status)) $("offline").hidden = false;
    });
  }

  $("notify").addEventListener("click", async () => {
    alertsOn = true;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      await audio.resume();
    } catch (_) { audio = null; }
    if ("Notification" in window && Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch (_) { /* not allowed here */ }
    }
    render();
    // Without push the page still alerts while it is open.
    if (permission() === "granted") subscribePush().catch(() => {});
  });

  // Messages by text or e-mail (the office's channels): the form, the saved contacts, stop.
  const contact = window.nowservingContact;
  function showContacts(answer) {
    const error = $("contact-error");
    error.hidden = !answer.error;
    error.textContent = answer.error ? t(answer.error) : "";
    if (answer.error) return;
    const shown = answer.contacts.filter((c) => c.channel !== "push").map((c) => c.shown);
    $("contact-list").replaceChildren(...shown.map((text) => Object.assign(document.createElement("li"), { textContent: text, dir: "ltr" })));
    $("contact-saved").hidden = shown.length === 0;
    $("contact-form").hidden = shown.length > 0;
    if (!shown.length) $("contact-form").reset();
  }
  if ($("contact")) {
    $("contact-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const { error, bodies } = contact.read(form);
      if (error || !bodies.length) return showContacts({ error: error || "contact.empty" });
      form.querySelector("button").disabled = true;
      showContacts(await contact.save(token, bodies));
      form.querySelector("button").disabled = false;
    });
    $("contact-stop").addEventListener("submit", async (event) => {
      event.preventDefault();
      showContacts(await contact.stop(token));
    });
  }

  const dialog = $("confirm-leave");
  $("leave").addEventListener("click", () => dialog.showModal());
  $("leave-no").addEventListener("click", () => dialog.close());
  $("leave-yes").addEventListener("click", async () => {
    dialog.close();
    const response = await fetch(`/api/tickets/${encodeURIComponent(token)}/leave`, { method: "POST" });
    if (response.ok) update(await response.json());
  });

  render();
  if (!FINAL.has(ticket.status)) connect();
})();
