// Search page enhancements: suggestions as you type, and live facets.
// Without JavaScript the page works as a plain GET form; this script only
// (1) shows suggestions from /api/search/suggest and (2) re-renders the
// facets and results region from the server (same templates, same escaping)
// when a filter changes, keeping the URL in sync with history.pushState.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.fetch) return;
  var input = document.getElementById("search-q");
  var list = document.getElementById("search-suggestions");
  var suggestUrl = form.getAttribute("data-suggest-url");
  var pageUrl = form.getAttribute("data-page-url");
  var active = -1;
  var suggestTimer = null;
  var suggestController = null;
  var liveController = null;

  // --- Suggestions (ARIA combobox with a listbox) -----------------------------------
  function closeSuggestions() {
    list.hidden = true;
    list.innerHTML = "";
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function renderSuggestions(items) {
    list.innerHTML = "";
    active = -1;
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.className = "suggestion suggestion-" + item.kind;
      li.textContent = item.text; // text, never HTML
      li.dataset.kind = item.kind;
      if (item.organization_id) li.dataset.organizationId = item.organization_id;
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(li);
      });
      list.appendChild(li);
    });
    var open = items.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function choose(li) {
    if (li.dataset.organizationId) {
      var lang = document.documentElement.lang || "fr";
      window.location.href = "/" + lang + "/organizations/" + li.dataset.organizationId + "/?from=search";
      return;
    }
    input.value = li.textContent;
    closeSuggestions();
    refresh();
  }

  function highlight(index) {
    var items = list.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (el, i) {
      el.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", items[active].id);
  }

  input.addEventListener("input", function () {
    clearTimeout(suggestTimer);
    var text = input.value.trim();
    if (text.length < 2) {
      closeSuggestions();
      return;
    }
    suggestTimer = setTimeout(function () {
      if (suggestController) suggestController.abort();
      suggestController = new AbortController();
      fetch(suggestUrl + "?q=" + encodeURIComponent(text.slice(0, 50)), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: suggestController.signal,
      })
        .then(function (r) {
          return r.ok ? r.json() : { suggestions: [] };
        })
        .then(function (data) {
          if (input.value.trim() === text) renderSuggestions(data.suggestions || []);
        })
        .catch(function () {});
    }, 150);
  });

  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(list.querySelectorAll("[role=option]")[active]);
    } else if (event.key === "Escape") {
      closeSuggestions();
    }
  });
  input.addEventListener("blur", function () {
    setTimeout(closeSuggestions, 100);
  });

  // --- Live facets and results ---------------------------------------------------------
  function queryString() {
    var params = new URLSearchParams(new FormData(form));
    ["q", "near"].forEach(function (key) {
      if (!params.get(key)) params.delete(key);
    });
    if (!params.get("near")) params.delete("km");
    if (params.get("sort") === "relevance") params.delete("sort");
    return params.toString();
  }

  function load(url, push) {
    var region = document.getElementById("search-live");
    var results = region.querySelector(".results");
    if (results) results.setAttribute("aria-busy", "true");
    var focused = document.activeElement;
    var focusKey = focused && focused.name && focused.type === "checkbox" ? [focused.name, focused.value] : null;
    if (liveController) liveController.abort();
    liveController = new AbortController();
    fetch(url, { headers: { "X-Search-Partial": "1" }, credentials: "same-origin", signal: liveController.signal })
      .then(function (r) {
        return r.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html; // rendered by our own templates, escaped server-side
        var fresh = holder.querySelector("#search-live");
        if (!fresh) return;
        region.replaceWith(fresh);
        if (push) history.pushState({ search: true }, "", url);
        if (focusKey) {
          var again = fresh.querySelector(
            'input[name="' + CSS.escape(focusKey[0]) + '"][value="' + CSS.escape(focusKey[1]) + '"]'
          );
          if (again) again.focus();
        }
      })
      .catch(function () {});
  }

  function refresh() {
    var qs = queryString();
    load(pageUrl + (qs ? "?" + qs : ""), true);
  }

  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-live")) refresh();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    closeSuggestions();
    refresh();
  });
  form.addEventListener("click", function (event) {
    var link = event.target.closest("#search-live a[href]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var href = link.getAttribute("href");
    if (href.indexOf(pageUrl) !== 0) return; // profile links navigate normally
    event.preventDefault();
    load(href, true);
    var params = new URL(href, window.location.href).searchParams;
    input.value = params.get("q") || "";
  });
  window.addEventListener("popstate", function () {
    load(window.location.href, false);
    input.value = new URLSearchParams(window.location.search).get("q") || "";
  });
})();
