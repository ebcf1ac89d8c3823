/* Maillage live connection: the page's one websocket to /ws/ (protocol: messaging/events.py).
 *
 * Loaded on every page for signed-in users. Keeps the nav badges (unread
 * messages, notifications) current, shows notifications as they arrive, and
 * offers a tiny bus other scripts (messaging.js) use:
 *   MaillageLive.on(type, handler)    server events by type, plus "open" / "down"
 *   MaillageLive.send(frame) -> bool  false while disconnected
 *   MaillageLive.track(id, lastSeen)  conversations to catch up on after every (re)connect
 * Reconnects with exponential backoff and jitter; after each hello it sends
 * `sync` with the last order seen in every tracked conversation, so nothing
 * is missed or shown twice. User text is only ever set with textContent.
 */
(function () {
  "use strict";
  var configNode = document.getElementById("live-config");
  if (!configNode || !("WebSocket" in window)) { return; }
  var config = JSON.parse(configNode.textContent);
  var strings = config.strings || {};
  var handlers = {};
  var tracked = {};
  var socket = null;
  var attempt = 0;
  var everOpened = false;
  var CLOSE_UNAUTHENTICATED = 4001;

  function emit(type, event) {
    (handlers[type] || []).forEach(function (handler) {
      try { handler(event); } catch (error) { window.console && console.error(error); }
    });
  }

  function badge(name) {
    return document.querySelector('[data-live-badge="' + name + '"]');
  }

  function setBadge(name, count) {
    var node = badge(name);
    if (!node) { return; }
    node.querySelector(".badge-count").textContent = String(count);
    node.hidden = count <= 0;
  }

  function badgeValue(name) {
    var node = badge(name);
    return node ? parseInt(node.querySelector(".badge-count").textContent, 10) || 0 : 0;
  }

  function toast(text) {
    var node = document.getElementById("live-toast");
    if (!node) { return; }
    node.textContent = text;
    node.classList.add("visible");
    window.clearTimeout(toast.timer);
    toast.timer = window.setTimeout(function () { node.classList.remove("visible"); }, 6000);
  }

  function refreshCounts() {
    fetch("/api/messaging/unread/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        setBadge("messages", data.total);
        setBadge("notifications", data.notifications);
        emit("unread", data);
      })
      .catch(function () { /* offline: the next hello retries */ });
  }

  function syncFrame() {
    var conversations = {};
    var any = false;
    Object.keys(tracked).forEach(function (id) {
      conversations[id] = tracked[id]();
      any = true;
    });
    return any ? { type: "sync", conversations: conversations } : null;
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + config.path);
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event.type === "hello") {
        attempt = 0;
        var frame = syncFrame();
        if (frame) { socket.send(JSON.stringify(frame)); } else { opened(); }
        refreshCounts();
      } else if (event.type === "sync.done") {
        if (event.more) {
          var again = syncFrame();
          if (again) { socket.send(JSON.stringify(again)); return; }
        }
        opened();
      } else if (event.type === "message.new") {
        var author = event.message.author && event.message.author.id;
        if (author !== config.user) { setBadge("messages", badgeValue("messages") + 1); }
      } else if (event.type === "read.update") {
        setBadge("messages", event.unread_total);
      } else if (event.type === "notification") {
        setBadge("notifications", badgeValue("notifications") + 1);
        toast((event.payload && event.payload.title) || strings.notification || "");
      }
      emit(event.type, event);
    };
    socket.onclose = function (event) {
      socket = null;
      emit("down", event);
      if (event.code === CLOSE_UNAUTHENTICATED) { return; }
      if (everOpened) { toast(strings.reconnecting || ""); }
      // Exponential backoff with jitter, so that a restarted server is not
      // hit by every browser at once.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      window.setTimeout(connect, delay);
    };
  }

  function opened() {
    if (everOpened && document.getElementById("live-toast").textContent === strings.reconnecting) {
      toast(strings.reconnected || "");
    }
    everOpened = true;
    emit("open", {});
  }

  window.MaillageLive = {
    user: config.user,
    on: function (type, handler) { (handlers[type] = handlers[type] || []).push(handler); },
    send: function (frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) { return false; }
      socket.send(JSON.stringify(frame));
      return true;
    },
    track: function (conversationId, lastSeen) { tracked[String(conversationId)] = lastSeen; },
    isOpen: function () { return !!socket && socket.readyState === WebSocket.OPEN; },
    setBadge: setBadge
  };
  connect();
})();
