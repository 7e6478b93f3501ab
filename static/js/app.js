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
