// Live eligibility panel of a consortium workspace: re-reads the server's verdict every few
// seconds, and at once when a consortium notification arrives on the page's websocket.
(function () {
  "use strict";
  var panel = document.getElementById("eligibility");
  if (!panel) return;
  var url = panel.getAttribute("data-url");
  var icons = { met: "✔", warning: "⚠", unmet: "✘" };

  function render(data) {
    var report = data.eligibility;
    var verdict = document.getElementById("elig-verdict");
    verdict.textContent = report.eligible ? verdict.dataset.yes || verdict.textContent : verdict.dataset.no || verdict.textContent;
    verdict.className = "badge " + (report.eligible ? "status-admitted" : "status-rejected");
    var list = document.getElementById("elig-rules");
    while (list.firstChild) list.removeChild(list.firstChild);
    report.rules.forEach(function (rule) {
      var li = document.createElement("li");
      li.className = "rule rule-" + rule.status;
      li.dataset.code = rule.code;
      var icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = icons[rule.status] || "";
      li.appendChild(icon);
      li.appendChild(document.createTextNode(" " + rule.explanation));
      list.appendChild(li);
    });
    data.partners.forEach(function (partner) {
      var row = document.querySelector('tr[data-partner="' + partner.id + '"] .partner-state .badge');
      if (row) {
        row.textContent = partner.state_label;
        row.className = "badge state-" + partner.state;
      }
    });
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* offline: the next tick retries */ });
  }

  // live.js (base template) multiplexes the websocket; a consortium notification means a partner answered.
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.MaillageLive) return;
    window.MaillageLive.on("notification", function (event) {
      if (event.kind && event.kind.indexOf("consortium.") === 0) refresh();
    });
  });
  setInterval(refresh, 5000);
})();

// "Similar organizations" on a profile page: filled from the API (more_like_this on the index).
(function () {
  "use strict";
  var list = document.getElementById("similar-list");
  if (!list) return;
  var profile = list.getAttribute("data-profile-url");
  function clear() { while (list.firstChild) list.removeChild(list.firstChild); }
  fetch(list.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (items) {
      clear();
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "meta";
        none.textContent = list.getAttribute("data-empty");
        list.appendChild(none);
        return;
      }
      items.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = profile.replace("/0/", "/" + item.organization_id + "/");
        a.textContent = item.name;
        li.appendChild(a);
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = " · " + item.country + " · " + item.reasons.join(" · ");
        li.appendChild(meta);
        list.appendChild(li);
      });
    })
    .catch(clear);
})();

// "Save this search": the live search page rewrites its URL as filters change, so read it at submit time.
(function () {
  "use strict";
  var form = document.querySelector("form.save-search");
  if (!form) return;
  form.addEventListener("submit", function () {
    form.querySelector('input[name="querystring"]').value = window.location.search.replace(/^\?/, "");
  });
})();
