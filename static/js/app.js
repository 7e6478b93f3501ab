// Toasts from HX-Trigger {"toast": {"level", "message"}} and auto-dismiss of flash messages.
(function () {
  function toast(level, message) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  document.addEventListener("toast", function (e) { toast(e.detail.level, e.detail.message); });
  // htmx does not swap 4xx responses by default; these carry a re-rendered panel with the error.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var code = e.detail.xhr.status;
    if (code === 400 || code === 409 || code === 422) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) { setTimeout(function () { el.remove(); }, 8000); });
  });
})();
// Live countdowns on <time data-countdown datetime="..."> and "select page" checkboxes.
(function () {
  function fmt(ms) {
    var late = ms < 0, s = Math.abs(Math.floor(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = d ? d + " d " + h + " h" : h ? h + " h " + m + " min" : m + " min";
    return late ? "overdue by " + text : "in " + text;
  }
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var ms = new Date(el.getAttribute("datetime")) - new Date();
      el.textContent = fmt(ms);
      el.classList.toggle("late", ms < 0);
    });
  }
  setInterval(tick, 30000);
  document.addEventListener("change", function (e) {
    if (!e.target.matches("[data-select-all]")) return;
    var form = e.target.closest("form");
    form.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = e.target.checked; });
  });
})();
