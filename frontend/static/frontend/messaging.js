/* Maillage messaging pages: the conversation view and the inbox, live over MaillageLive (live.js).
 *
 * Messages are identified by their order in the conversation; the list is
 * kept sorted by it, so a message arriving twice (ack then broadcast, or a
 * catch-up after a reconnect) is shown once. Sending is idempotent: each
 * message gets a client key and is resent with the same key until acked.
 * User text is only ever inserted with textContent (never innerHTML).
 */
(function () {
  "use strict";
  var live = window.MaillageLive;
  if (!live) { return; }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function formatTime(iso) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        dateStyle: "short", timeStyle: "short"
      }).format(new Date(iso));
    } catch (error) { return iso; }
  }

  function newClientKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  /* --- Conversation page ------------------------------------------------ */

  var configNode = document.getElementById("messaging-config");
  if (configNode) { conversationPage(JSON.parse(configNode.textContent)); }

  function conversationPage(config) {
    var strings = config.strings;
    var list = document.getElementById("message-list");
    var form = document.getElementById("composer");
    var textarea = document.getElementById("composer-text");
    var errorBox = document.getElementById("composer-error");
    var typingBox = document.getElementById("typing-indicator");
    var stateBox = document.getElementById("connection-state");
    var byOrder = {};
    var pending = {};  // client key -> {text, node}
    var lastTypingSent = 0;
    var typingTimer = null;
    var readTimer = null;
    var lastReadSent = 0;

    Array.prototype.forEach.call(list.children, function (node) {
      byOrder[node.dataset.order] = node;
      addActions(node);
    });

    function contiguousLast() {
      // The highest order up to which nothing is missing on the page.
      var orders = Object.keys(byOrder).map(Number).sort(function (a, b) { return a - b; });
      if (!orders.length) { return config.lastOrder; }
      var last = orders[0] - 1;
      for (var i = 0; i < orders.length && orders[i] === last + 1; i++) { last = orders[i]; }
      return Math.max(last, Math.min(config.lastOrder, orders[0] - 1));
    }

    function maxOrder() {
      var orders = Object.keys(byOrder).map(Number);
      return orders.length ? Math.max.apply(null, orders) : 0;
    }

    live.track(config.conversation, contiguousLast);

    function fill(node, message) {
      node.dataset.id = message.id;
      node.dataset.order = message.order;
      node.dataset.author = message.author.id === null ? "" : message.author.id;
      node.dataset.created = message.created_at;
      node.classList.toggle("mine", message.author.id === config.user);
      node.classList.toggle("deleted", !!message.deleted);
      node.classList.remove("pending", "failed");
      node.removeAttribute("aria-busy");
      var meta = node.querySelector(".message-meta");
      meta.textContent = "";
      meta.appendChild(el("span", "message-author", message.author.id === config.user ? strings.you : message.author.name));
      if (message.author.organization) { meta.appendChild(el("span", "message-org", " · " + message.author.organization)); }
      meta.appendChild(document.createTextNode(" "));
      var time = el("time", "", formatTime(message.created_at));
      time.setAttribute("datetime", message.created_at);
      meta.appendChild(time);
      var edited = el("span", "message-edited", " (" + strings.edited + ")");
      edited.hidden = !message.edited_at || message.deleted;
      meta.appendChild(edited);
      var text = node.querySelector(".message-text");
      text.textContent = "";
      if (message.deleted) { text.appendChild(el("em", "", strings.deleted)); } else { text.textContent = message.text; }
      addActions(node);
    }

    function skeleton() {
      var node = el("li", "message-item");
      node.appendChild(el("p", "message-meta"));
      var text = el("p", "message-text");
      text.setAttribute("dir", "auto");
      node.appendChild(text);
      return node;
    }

    function place(node, order) {
      // Keep the list sorted by order.
      var after = null;
      Array.prototype.some.call(list.children, function (child) {
        if (child.dataset.order && Number(child.dataset.order) > order) { after = child; return true; }
        return false;
      });
      list.insertBefore(node, after);
    }

    function nearBottom() {
      return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
    }

    function show(message) {
      var key = String(message.order);
      var node = byOrder[key];
      var stick = nearBottom();
      if (!node) {
        node = skeleton();
        byOrder[key] = node;
        fill(node, message);
        place(node, message.order);
      } else {
        fill(node, message);
      }
      if (stick) { node.scrollIntoView({ block: "end" }); }
      scheduleRead();
    }

    function scheduleRead() {
      window.clearTimeout(readTimer);
      readTimer = window.setTimeout(function () {
        var top = maxOrder();
        if (document.visibilityState === "visible" && top > lastReadSent) {
          if (live.send({ type: "read.update", conversation: config.conversation, order: top })) { lastReadSent = top; }
        }
      }, 400);
    }
    document.addEventListener("visibilitychange", scheduleRead);

    function addActions(node) {
      var existing = node.querySelector(".message-actions");
      if (existing) { existing.remove(); }
      if (!node.classList.contains("mine") || node.classList.contains("deleted") || !node.dataset.id) { return; }
      var age = (Date.now() - new Date(node.dataset.created).getTime()) / 1000;
      if (age > config.editWindowSeconds) { return; }
      var actions = el("p", "message-actions");
      var edit = el("button", "link-button", strings.edit);
      edit.type = "button";
      edit.addEventListener("click", function () { startEdit(node); });
      var remove = el("button", "link-button", strings["delete"]);
      remove.type = "button";
      remove.addEventListener("click", function () {
        if (window.confirm(strings.confirm_delete)) {
          live.send({ type: "message.delete", conversation: config.conversation, id: Number(node.dataset.id) });
        }
      });
      actions.appendChild(edit);
      actions.appendChild(remove);
      node.appendChild(actions);
    }

    function startEdit(node) {
      var text = node.querySelector(".message-text");
      var box = el("form", "message-edit");
      var input = el("textarea");
      input.value = text.textContent;
      input.rows = 2;
      input.setAttribute("dir", "auto");
      input.setAttribute("aria-label", strings.edit);
      var save = el("button", "button button-small", strings.save);
      save.type = "submit";
      var cancel = el("button", "button button-small button-secondary", strings.cancel);
      cancel.type = "button";
      box.appendChild(input);
      box.appendChild(save);
      box.appendChild(cancel);
      text.hidden = true;
      node.insertBefore(box, text.nextSibling);
      input.focus();
      function close() { box.remove(); text.hidden = false; }
      cancel.addEventListener("click", close);
      box.addEventListener("submit", function (event) {
        event.preventDefault();
        live.send({ type: "message.edit", conversation: config.conversation, id: Number(node.dataset.id), text: input.value });
        close();
      });
    }

    function sendPending(key) {
      var item = pending[key];
      live.send({ type: "message.send", conversation: config.conversation, text: item.text, client_key: key, ref: key });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textarea.value;
      errorBox.textContent = "";
      if (!text.trim()) { return; }
      if (new TextEncoder().encode(text).length > config.maxBytes) {
        errorBox.textContent = format(strings.send_failed, { reason: "16 KB" });
        return;
      }
      var key = newClientKey();
      var node = skeleton();
      node.classList.add("mine", "pending");
      node.setAttribute("aria-busy", "true");
      node.querySelector(".message-meta").textContent = strings.sending;
      node.querySelector(".message-text").textContent = text;
      list.appendChild(node);
      node.scrollIntoView({ block: "end" });
      pending[key] = { text: text, node: node };
      textarea.value = "";
      lastTypingSent = 0;  // the next keystroke starts a new "typing"
      sendPending(key);  // if the socket is down, "open" resends it with the same key
    });

    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTypingSent > 3000) {
        lastTypingSent = now;
        live.send({ type: "typing", conversation: config.conversation });
      }
    });

    live.on("open", function () {
      stateBox.hidden = true;
      Object.keys(pending).forEach(sendPending);
      scheduleRead();
    });
    live.on("down", function () {
      stateBox.textContent = document.getElementById("live-config") ? JSON.parse(document.getElementById("live-config").textContent).strings.reconnecting : "";
      stateBox.hidden = false;
    });
    live.on("message.ack", function (event) {
      var item = pending[event.client_key];
      if (!item || event.conversation !== config.conversation) { return; }
      delete pending[event.client_key];
      var existing = byOrder[String(event.order)];
      if (existing && existing !== item.node) { item.node.remove(); return; }
      item.node.classList.remove("pending");
      item.node.removeAttribute("aria-busy");
      item.node.dataset.id = event.id;
      item.node.dataset.order = event.order;
      item.node.dataset.created = event.created_at;
      byOrder[String(event.order)] = item.node;
      fill(item.node, {
        id: event.id, order: event.order, text: item.text, created_at: event.created_at, edited_at: null, deleted: false,
        author: { id: config.user, name: strings.you, organization: null }
      });
      place(item.node, event.order);
    });
    live.on("message.new", function (event) {
      if (event.message.conversation === config.conversation) { show(event.message); }
    });
    live.on("message.updated", function (event) {
      var node = byOrder[String(event.message.order)];
      if (event.message.conversation === config.conversation && node) { fill(node, event.message); }
    });
    live.on("error", function (event) {
      var item = event.ref && pending[event.ref];
      if (!item) { errorBox.textContent = event.detail; return; }
      delete pending[event.ref];
      item.node.remove();
      if (!textarea.value) { textarea.value = item.text; }
      errorBox.textContent = format(strings.send_failed, { reason: event.detail });
    });
    live.on("typing", function (event) {
      if (event.conversation !== config.conversation) { return; }
      typingBox.textContent = format(strings.typing, { name: event.name });
      window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(function () { typingBox.textContent = ""; }, 4000);
    });
    live.on("conversation.left", function (event) {
      if (event.conversation === config.conversation) { window.location.reload(); }
    });

    var older = document.querySelector("[data-load-older]");
    if (older) {
      older.addEventListener("click", function () {
        var orders = Object.keys(byOrder).map(Number);
        var before = orders.length ? Math.min.apply(null, orders) : config.lastOrder + 1;
        older.disabled = true;
        fetch(config.historyUrl + "?before=" + before + "&limit=50", { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            data.results.forEach(function (message) {
              if (byOrder[String(message.order)]) { return; }
              var node = skeleton();
              byOrder[String(message.order)] = node;
              fill(node, message);
              place(node, message.order);
            });
            older.disabled = false;
            if (!data.has_more_before) { older.parentNode.remove(); }
          })
          .catch(function () { older.disabled = false; });
      });
    }
    scheduleRead();
    var lastNode = list.lastElementChild;
    if (lastNode) { lastNode.scrollIntoView({ block: "end" }); }
  }

  /* --- Inbox ------------------------------------------------------------- */

  var inbox = document.querySelector("[data-messaging-inbox]");
  if (inbox) { inboxPage(inbox); }

  function inboxPage(container) {
    function row(id) { return container.querySelector('[data-conversation="' + id + '"]'); }
    function setUnread(id, count) {
      var badge = container.querySelector('[data-unread-for="' + id + '"]');
      if (!badge) { return; }
      badge.querySelector(".badge-count").textContent = String(count);
      badge.hidden = count <= 0;
      row(id).classList.toggle("has-unread", count > 0);
    }
    live.on("message.new", function (event) {
      var message = event.message;
      var node = row(message.conversation);
      if (!node) { window.location.reload(); return; }
      if (Number(node.dataset.lastOrder) >= message.order) { return; }
      node.dataset.lastOrder = message.order;
      var preview = node.querySelector(".conversation-preview");
      preview.textContent = message.text.length > 140 ? message.text.slice(0, 139) + "…" : message.text;
      if (message.author.id !== live.user) {
        var badge = container.querySelector('[data-unread-for="' + message.conversation + '"] .badge-count');
        setUnread(message.conversation, (parseInt(badge.textContent, 10) || 0) + 1);
      }
      container.insertBefore(node, container.firstElementChild);
    });
    live.on("read.update", function (event) { setUnread(event.conversation, event.unread); });
    live.on("unread", function (data) {
      Array.prototype.forEach.call(container.querySelectorAll("[data-conversation]"), function (node) {
        setUnread(node.dataset.conversation, data.conversations[node.dataset.conversation] || 0);
      });
    });
    live.on("conversation.joined", function () { window.location.reload(); });
  }
})();
