// Switching language reloads the page in that language (no cookies: it is in the URL).
(() => {
  const select = document.getElementById("language");
  if (!select) return;
  select.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("lang", select.value);
    window.location.replace(url.toString());
  });
})();
