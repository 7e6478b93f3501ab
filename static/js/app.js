// Toasts from HX-Trigger {"toast": {"level", "message"}}, auto-dismiss of flash messages, and
// keyboard focus after a swap.
(function () {
  var pending = [];
  function toast(level, message, quiet) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.textContent = message;
    // The swapped content carries the same news in its own alert or report, which is what
    // gets the focus: a screen reader would otherwise hear it twice.
    if (quiet) el.setAttribute("aria-hidden", "true");
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  function flush(news) {
    pending.splice(0).forEach(function (t) { toast(t.level, t.message, news); });
  }
  // htmx fires HX-Trigger events before it swaps: hold the toast until the content is in.
  document.addEventListener("toast", function (e) {
    pending.push(e.detail);
    setTimeout(function () { flush(false); }, 400);  // a response that swaps nothing
  });
  // Which statuses swap is htmx's responseHandling (includes/_htmx_config.html): the validation
  // answers (400, 409, 422, 429) carry the re-rendered part with its error. A whole document in
  // such an answer is not that part (Django's own "Bad Request" page, a proxy's error page): it
  // would nest a page inside the page, so it is told as a toast instead; so is an empty answer.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status < 400 || !e.detail.shouldSwap) return;
    var text = xhr.responseText || "";
    // An empty answer (only a toast in HX-Trigger) would swap the target away.
    if (!text.trim() || /^\s*(<!doctype html|<html)/i.test(text) && e.detail.target !== document.body) {
      e.detail.shouldSwap = false;
      failed(xhr);
    }
  });
  // gettext() comes from the JavaScript catalog (/jsi18n/), loaded before this file.
  var FAILED = {
    403: gettext("You are not allowed to do that, or your session has ended: reload the page and log in again."),
    404: gettext("That is no longer there: reload the page."),
    413: gettext("What you sent is too large: attach fewer or smaller files."),
  };
  function failed(xhr) {
    // An answer with its own toast (HX-Trigger) has said what went wrong already.
    if (/"toast"/.test(xhr.getResponseHeader("HX-Trigger") || "")) return;
    var text = FAILED[xhr.status] || interpolate(xhr.status >= 500
      ? gettext("Something went wrong on our side (%s). Reload the page to see what was saved, then try again.")
      : gettext("The request was refused (%s). Reload the page and try again."), [xhr.status]);
    toast("error", text);
  }
  // 403, 404, 413 and 5xx swap nothing (responseHandling): the toast is all the user sees.
  document.addEventListener("htmx:responseError", function (e) { failed(e.detail.xhr); });
  document.addEventListener("htmx:sendError", function () {
    toast("error", gettext("Seller Center could not be reached. Check your connection and try again."));
  });
  // The control that had the focus usually went with the content it was in, and the
  // browser then drops the focus to the top of the page: a keyboard user would have to
  // tab all the way back. Focus goes to the swapped content's message, or the content.
  document.addEventListener("htmx:afterSettle", function (e) {
    var el = e.detail.elt;
    if (!el || !document.contains(el)) el = e.detail.target && document.getElementById(e.detail.target.id);
    if (!el || !document.contains(el)) return;
    // Out-of-band parts (tab counts) and the board's own refreshes are not the answer to
    // what the user did: they neither take the focus nor decide the toast.
    if (el.matches("#board, #tabs, #views, #filter-errors, #bell-count, [id^='view-count-']") || el.closest("#board")) return;
    var news = el.querySelector('#bulk-confirm, [role="alert"]:not(:empty), [role="status"]:not(:empty), #bulk-report');
    flush(!!news);
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    var target = news || el;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
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
    var text = d ? interpolate(gettext("%(d)s d %(h)s h"), {d: d, h: h}, true)
      : h ? interpolate(gettext("%(h)s h %(m)s min"), {h: h, m: m}, true)
      : interpolate(gettext("%(m)s min"), {m: m}, true);
    return interpolate(late ? gettext("overdue by %(time)s") : gettext("in %(time)s"), {time: text}, true);
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

// Manage Orders: the filters behind a button on a phone, forms that cannot be sent twice, the
// list refreshed after a row's inline action, and the keyboard (/ search, j/k rows, x select,
// c confirm, ? help). Words come from the page (translated there); keys typed into a field are
// the field's own.
(function () {
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest("[data-filters-toggle]");
    if (toggle) {
      var filters = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = !filters.classList.contains("open");
      filters.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = filters.querySelector("textarea, input:not([type=hidden]), select"); if (first) first.focus(); }
      return;
    }
    if (e.target.closest("[data-keys-help]")) showHelp();
  });
  // A plain form (no htmx) sent once: its buttons are disabled after the browser has read the
  // pressed one's name and value.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-once]") || form.hasAttribute("hx-post")) return;
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    if (!elt || !elt.matches || !elt.matches("[data-refresh-results]") || !e.detail.successful) return;
    if (window.htmx && document.getElementById("results")) {
      window.htmx.ajax("GET", window.location.href, {target: "#results", swap: "outerHTML"});
    }
  });

  function showHelp() {
    var dialog = document.getElementById("keys-help");
    if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
  }
  function typing(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    return tag === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(el.type || "");
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#rows tr")).filter(function (tr) { return tr.querySelector('input[name="ids"]'); }); }
  function currentRow() {
    var active = document.activeElement;
    var tr = active && active.closest && active.closest("#rows tr");
    return tr || document.querySelector("#rows tr.current");
  }
  function moveTo(tr) {
    document.querySelectorAll("#rows tr.current").forEach(function (r) { r.classList.remove("current"); });
    tr.classList.add("current");
    var link = tr.querySelector("td:nth-child(2) a") || tr.querySelector("a, button, input");
    if (link) link.focus();
    tr.scrollIntoView({block: "nearest"});
  }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (document.querySelector("dialog[open]")) return;
    if (!document.getElementById("rows")) return;
    var key = e.key;
    if (key === "/") {
      var search = document.getElementById("id_q");
      if (!search) return;
      e.preventDefault();
      var filters = document.getElementById("filters");
      if (filters && !filters.classList.contains("open") && getComputedStyle(filters).display === "none") {
        var toggle = document.querySelector("[data-filters-toggle]");
        if (toggle) toggle.click();
      }
      search.focus();
    } else if (key === "j" || key === "k") {
      var all = rows();
      if (!all.length) return;
      e.preventDefault();
      var at = all.indexOf(currentRow());
      var next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + (key === "j" ? 1 : -1)));
      moveTo(all[next]);
    } else if (key === "x") {
      var tr = currentRow();
      var box = tr && tr.querySelector('input[name="ids"]');
      if (!box) return;
      e.preventDefault();
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", {bubbles: true}));
    } else if (key === "c") {
      var confirm = document.querySelector("[data-key-confirm]");
      if (!confirm || !document.querySelector('#rows input[name="ids"]:checked')) return;
      e.preventDefault();
      confirm.click();
    } else if (key === "?") {
      e.preventDefault();
      showHelp();
    }
  });
})();
