/*
 * Web chat for a Rasa bot served by rasa_llm_components' signed socket.io channel.
 *
 * No build step and no third-party code: a small Engine.IO v4 / Socket.IO v5 client over a
 * WebSocket (what python-socketio 5 speaks), and the chat page around it. All bot and customer
 * text is put into the page with textContent, never parsed as HTML.
 *
 * Identity: the shop's website opens this page with the customer's signed token in the URL
 * fragment (#token=...; a fragment never reaches any server). The page keeps the token for the
 * browser tab only (sessionStorage), removes it from the address bar and hands it to the server
 * in the socket.io connect payload {"token": ...}; the server checks the signature and picks the
 * conversation. Without a token the customer chats as a visitor.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "webchat.token";
  var SESSION_KEY = "webchat.session";
  var FEEDBACK_INTENT = "answer_feedback";
  var TYPING_TIMEOUT_MS = 45000;
  var MAX_RECONNECT_DELAY_MS = 15000;
  var REFUSED_NOTICE = "Your sign-in was not accepted (it may have expired), so you are chatting " +
    "as a visitor. Sign in again to see your orders.";

  // --- Engine.IO v4 / Socket.IO v5 over WebSocket ------------------------------------------
  // Engine.IO packets: 0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop.
  // Socket.IO packets (inside an Engine.IO message): 0 connect, 1 disconnect, 2 event,
  // 4 connect error. "42" + JSON array is an event on the default namespace.

  /**
   * A Socket.IO client for the default namespace. `handlers`: onConnect(), onEvent(name, data),
   * onConnectError(message) (the server refused the connect payload; no retry),
   * onDisconnect(willRetry).
   */
  function SocketIOClient(url, auth, handlers) {
    this.url = url;
    this.auth = auth;
    this.handlers = handlers;
    this.ws = null;
    this.connected = false;
    this.closedByClient = false;
    this.attempts = 0;
    this.pingTimer = null;
    this.retryTimer = null;
  }

  SocketIOClient.prototype.open = function () {
    var self = this;
    var ws;
    this.closedByClient = false;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this._lost();
      return;
    }
    this.ws = ws;
    ws.onmessage = function (event) {
      if (typeof event.data === "string") {
        self._onPacket(event.data);
      }
    };
    ws.onclose = function () {
      if (self.ws === ws) {
        self._lost();
      }
    };
    ws.onerror = function () {
      // onclose follows and handles the retry
    };
  };

  SocketIOClient.prototype.close = function () {
    this.closedByClient = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    if (this.ws) {
      var ws = this.ws;
      this.ws = null;
      if (ws.readyState === WebSocket.OPEN) {
        ws.send("41");
      }
      ws.close();
    }
    this.connected = false;
  };

  /** Sends an event; false when the socket is not connected (nothing is sent then). */
  SocketIOClient.prototype.emit = function (name, data) {
    if (!this.connected || !this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.ws.send("42" + JSON.stringify([name, data]));
    return true;
  };

  SocketIOClient.prototype._onPacket = function (packet) {
    var type = packet.charAt(0);
    var body = packet.slice(1);
    if (type === "0") {
      // open: {"sid", "pingInterval", "pingTimeout", ...}; then join the default namespace
      var open = parseJSON(body) || {};
      this.pingDeadline = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      this._expectPing();
      this.ws.send("40" + (this.auth ? JSON.stringify(this.auth) : ""));
    } else if (type === "2") {
      this.ws.send("3" + body);
      this._expectPing();
    } else if (type === "1") {
      this.ws.close();
    } else if (type === "4") {
      this._onSocketIOPacket(body);
    }
  };

  SocketIOClient.prototype._onSocketIOPacket = function (packet) {
    var type = packet.charAt(0);
    var body = packet.slice(1);
    if (type === "0") {
      this.connected = true;
      this.attempts = 0;
      this.handlers.onConnect();
    } else if (type === "2") {
      // an event: 42["name", data] (an ack id would come before the "[": ignored)
      var start = body.indexOf("[");
      var event = start >= 0 ? parseJSON(body.slice(start)) : null;
      if (Array.isArray(event) && typeof event[0] === "string") {
        this.handlers.onEvent(event[0], event[1]);
      }
    } else if (type === "4") {
      var error = parseJSON(body) || {};
      this.close();
      this.handlers.onConnectError(typeof error.message === "string" ? error.message : "");
    } else if (type === "1") {
      // the server ended the session (e.g. the token expired): reconnect, which checks it again
      this.ws.close();
    }
  };

  SocketIOClient.prototype._expectPing = function () {
    var self = this;
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(function () {
      if (self.ws) {
        self.ws.close(); // the server went quiet: treat as lost
      }
    }, this.pingDeadline);
  };

  SocketIOClient.prototype._lost = function () {
    var self = this;
    clearTimeout(this.pingTimer);
    this.ws = null;
    this.connected = false;
    if (this.closedByClient) {
      return;
    }
    this.attempts += 1;
    var delay = Math.min(MAX_RECONNECT_DELAY_MS, 500 * Math.pow(2, this.attempts - 1));
    this.handlers.onDisconnect(true);
    this.retryTimer = setTimeout(function () {
      self.open();
    }, delay);
  };

  function parseJSON(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  // --- identity ---------------------------------------------------------------------------

  /** The token from the URL fragment (then removed from the address bar) or from this tab. */
  function takeToken() {
    var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var token = fragment.get("token");
    if (token !== null) {
      fragment.delete("token");
      var rest = fragment.toString();
      var clean = window.location.pathname + window.location.search + (rest ? "#" + rest : "");
      window.history.replaceState(null, "", clean);
      storeToken(token.trim());
    }
    return readStorage(TOKEN_KEY);
  }

  function storeToken(token) {
    writeStorage(TOKEN_KEY, token || null);
    writeStorage(SESSION_KEY, null); // another identity starts another conversation
  }

  /** The token's claims, for display only: the server verifies the signature, not the page. */
  function tokenClaims(token) {
    var parts = (token || "").split(".");
    if (parts.length !== 3) {
      return null;
    }
    try {
      var base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      while (base64.length % 4) {
        base64 += "=";
      }
      var bytes = Uint8Array.from(atob(base64), function (c) {
        return c.charCodeAt(0);
      });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === "object" ? claims : null;
    } catch (error) {
      return null;
    }
  }

  function readStorage(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (error) {
      return null; // storage disabled: the page still works for this load
    }
  }

  function writeStorage(key, value) {
    try {
      if (value === null || value === undefined) {
        window.sessionStorage.removeItem(key);
      } else {
        window.sessionStorage.setItem(key, value);
      }
    } catch (error) {
      // storage disabled
    }
  }

  // --- the page ---------------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function ChatPage(root) {
    this.root = root;
    this.messages = root.querySelector("#messages");
    this.typing = root.querySelector("#typing");
    this.status = root.querySelector("#status");
    this.identity = root.querySelector("#identity");
    this.composer = root.querySelector("#composer");
    this.input = root.querySelector("#message-input");
    this.sendButton = this.composer.querySelector("button[type=submit]");
    this.signIn = root.querySelector("#sign-in");
    this.tokenInput = root.querySelector("#token-input");
    this.signOut = root.querySelector("#sign-out");
    this.socketPath = root.getAttribute("data-socket-path") || "/socket.io/";
    this.client = null;
    this.token = null;
    this.claims = null;
    this.sessionId = null;
    this.lastBotBubble = null;
    this.typingTimer = null;
    this.bind();
  }

  ChatPage.prototype.bind = function () {
    var self = this;
    this.composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (text && self.send(text, text)) {
        self.input.value = "";
      }
      self.input.focus();
    });
    this.signIn.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = self.tokenInput.value.trim();
      self.tokenInput.value = "";
      if (token) {
        storeToken(token);
        self.start();
      }
    });
    this.signOut.addEventListener("click", function () {
      storeToken(null);
      self.start();
    });
    window.addEventListener("hashchange", function () {
      if (/(^#|&)token=/.test(window.location.hash)) {
        takeToken();
        self.start();
      }
    });
  };

  /** (Re)connects with the current identity; a new identity gets an empty conversation view. */
  ChatPage.prototype.start = function () {
    var self = this;
    if (this.client) {
      this.client.close();
    }
    this.clearMessages();
    var token = readStorage(TOKEN_KEY);
    var claims = token ? tokenClaims(token) : null;
    if (token && claims && typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) {
      storeToken(null);
      token = null;
      this.showIdentity(null, "Your sign-in has expired. Sign in again, or chat as a visitor.");
    } else {
      this.showIdentity(null, token ? "Signing in…" : "", Boolean(token));
    }
    this.token = token;
    this.claims = claims;
    this.sessionId = readStorage(SESSION_KEY);
    this.setConnected(false, "Connecting…");
    var url = new URL(this.socketPath, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("EIO", "4");
    url.searchParams.set("transport", "websocket");
    this.client = new SocketIOClient(url.toString(), token ? { token: token } : null, {
      onConnect: function () {
        self.client.emit("session_request", { session_id: self.sessionId });
      },
      onEvent: function (name, data) {
        self.onEvent(name, data);
      },
      onConnectError: function (message) {
        self.onRefused(message);
      },
      onDisconnect: function () {
        self.hideTyping();
        self.setConnected(false, "Connection lost. Reconnecting…");
      },
    });
    this.client.open();
  };

  /** Shows who the customer chats as: `customer` (the server confirmed it) or a visitor. */
  ChatPage.prototype.showIdentity = function (customer, notice, pending) {
    this.identity.textContent = customer
      ? "Signed in as customer " + customer
      : notice || "Chatting as a visitor";
    this.signOut.hidden = !customer;
    this.signIn.hidden = Boolean(customer || pending);
  };

  /** The server checks the token: a signed customer's conversation is their customer id. A
   * token it did not accept (expired, forged, for another shop) leaves the customer a visitor. */
  ChatPage.prototype.onConfirmed = function (conversationId) {
    if (!this.token) {
      this.showIdentity(null, "");
      return;
    }
    var customer = this.claims && typeof this.claims.sub === "string" ? this.claims.sub : "";
    if (customer && conversationId === customer) {
      this.showIdentity(customer, "");
    } else {
      this.token = null;
      this.client.auth = null; // reconnects as the visitor the server made of it
      storeToken(null);
      writeStorage(SESSION_KEY, conversationId);
      this.showIdentity(null, REFUSED_NOTICE);
    }
  };

  ChatPage.prototype.onRefused = function (message) {
    storeToken(null);
    this.showIdentity(null, REFUSED_NOTICE + (message ? " (" + message + ")" : ""));
    this.setConnected(false, "Not connected. Sign in again, or reload the page to chat as a visitor.");
  };

  ChatPage.prototype.setConnected = function (connected, text) {
    this.status.textContent = text;
    this.root.classList.toggle("is-connected", connected);
    this.sendButton.disabled = !connected;
  };

  ChatPage.prototype.onEvent = function (name, data) {
    if (name === "session_confirm") {
      var confirmed = typeof data === "string" ? data : data && data.session_id;
      if (confirmed) {
        this.sessionId = String(confirmed);
        writeStorage(SESSION_KEY, this.sessionId);
        this.onConfirmed(this.sessionId);
      }
      this.setConnected(true, "Connected");
      if (!this.messages.children.length) {
        this.input.focus();
      }
    } else if (name === "bot_uttered" && data && typeof data === "object") {
      this.onBotMessage(data);
    }
  };

  /** Sends a customer message (`shown` is what the chat shows for it, null: nothing). */
  ChatPage.prototype.send = function (message, shown) {
    if (!this.client || !this.client.emit("user_uttered", {
      message: message,
      session_id: this.sessionId,
    })) {
      this.status.textContent = "Not connected yet. Your message was not sent; try again in a moment.";
      return false;
    }
    this.disableChoices();
    if (shown !== null) {
      this.addMessage("user", shown);
    }
    this.lastBotBubble = null;
    this.showTyping();
    return true;
  };

  // --- rendering --------------------------------------------------------------------------

  ChatPage.prototype.addMessage = function (who, text) {
    var item = element("li", "message message-" + who);
    item.appendChild(element("span", "visually-hidden", who === "bot" ? "Assistant: " : "You: "));
    var bubble = element("div", "bubble");
    bubble.appendChild(element("p", "text", text));
    item.appendChild(bubble);
    this.messages.appendChild(item);
    this.scrollDown();
    return bubble;
  };

  ChatPage.prototype.onBotMessage = function (data) {
    this.hideTyping();
    var custom = data.custom && typeof data.custom === "object" ? data.custom : null;
    if (!custom && Array.isArray(data.sources) && typeof data.text !== "string") {
      custom = data; // a custom payload sent as the whole message
    }
    if (typeof data.text === "string" && data.text.trim()) {
      this.lastBotBubble = this.addMessage("bot", data.text);
    }
    var choices = data.quick_replies || data.buttons;
    if (Array.isArray(choices) && choices.length) {
      this.addChoices(this.lastBotBubble || this.addMessage("bot", ""), choices);
    }
    if (data.attachment) {
      this.addAttachment(data.attachment);
    }
    if (custom && Array.isArray(custom.sources) && custom.sources.length) {
      this.addSources(this.lastBotBubble || this.addMessage("bot", ""), custom.sources);
    }
  };

  ChatPage.prototype.addChoices = function (bubble, choices) {
    var self = this;
    var group = element("div", "choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Choices");
    choices.forEach(function (choice) {
      if (!choice || typeof choice !== "object") {
        return;
      }
      var title = String(choice.title || choice.payload || "");
      var payload = String(choice.payload || choice.title || "");
      if (!title) {
        return;
      }
      var button = element("button", "choice", title);
      button.type = "button";
      button.addEventListener("click", function () {
        if (self.send(payload, title)) {
          button.classList.add("is-chosen");
        }
      });
      group.appendChild(button);
    });
    bubble.appendChild(group);
    this.scrollDown();
  };

  /** Choices and feedback belong to their turn: a new customer message closes them (so a
   * feedback event in the tracker always rates the latest answer before it). */
  ChatPage.prototype.disableChoices = function () {
    var buttons = this.messages.querySelectorAll(".choices button, .feedback button");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].disabled = true;
    }
  };

  ChatPage.prototype.addSources = function (bubble, sources) {
    var self = this;
    var box = element("div", "sources");
    box.appendChild(element("p", "sources-title", "Sources"));
    var list = element("ul", "sources-list");
    sources.forEach(function (source) {
      var title = source && (source.title || source.id);
      if (title) {
        list.appendChild(element("li", "source", title));
      }
    });
    box.appendChild(list);
    bubble.appendChild(box);

    var feedback = element("div", "feedback");
    feedback.setAttribute("role", "group");
    feedback.setAttribute("aria-label", "Was this answer helpful?");
    var note = element("span", "feedback-note", "Helpful?");
    feedback.appendChild(note);
    [["up", "Yes, this answer was helpful"],
     ["down", "No, this answer was not helpful"]].forEach(function (spec) {
      var button = element("button", "feedback-button feedback-" + spec[0]);
      button.type = "button";
      button.appendChild(thumbIcon());
      button.setAttribute("aria-label", spec[1]);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var message = "/" + FEEDBACK_INTENT + JSON.stringify({ feedback: spec[0] });
        if (self.send(message, null)) {
          button.setAttribute("aria-pressed", "true");
          var all = feedback.querySelectorAll("button");
          for (var i = 0; i < all.length; i += 1) {
            all[i].disabled = true;
          }
          note.textContent = "Thanks!";
        }
      });
      feedback.appendChild(button);
    });
    bubble.appendChild(feedback);
    this.scrollDown();
  };

  /** A thumb icon (drawn as SVG: emoji fonts are missing on many systems); CSS turns it down. */
  function thumbIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    [["rect", { x: "2", y: "10", width: "4", height: "11", rx: "1" }],
     ["path", { d: "M8 21h9.4a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 18.8 10H14V5.5A2.5 2.5 0 0 0 11.5 3L8 10z" }]
    ].forEach(function (shape) {
      var node = document.createElementNS(ns, shape[0]);
      Object.keys(shape[1]).forEach(function (name) {
        node.setAttribute(name, shape[1][name]);
      });
      svg.appendChild(node);
    });
    return svg;
  }

  ChatPage.prototype.addAttachment = function (attachment) {
    var payload = (attachment && attachment.payload) || {};
    var src = typeof payload.src === "string" ? payload.src : payload.url;
    var bubble = this.addMessage("bot", "");
    if (attachment.type === "image" && /^https?:\/\//i.test(src || "")) {
      var image = element("img", "attachment-image");
      image.src = src;
      image.alt = typeof payload.title === "string" ? payload.title : "Image from the assistant";
      bubble.appendChild(image);
    } else if (/^https?:\/\//i.test(src || "")) {
      var link = element("a", "attachment-link", payload.title || src);
      link.href = src;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      bubble.appendChild(link);
    } else {
      bubble.querySelector(".text").textContent = "(The assistant sent an attachment this chat cannot show.)";
    }
  };

  ChatPage.prototype.showTyping = function () {
    var self = this;
    this.typing.hidden = false;
    this.scrollDown();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(function () {
      self.hideTyping();
    }, TYPING_TIMEOUT_MS);
  };

  ChatPage.prototype.hideTyping = function () {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  };

  ChatPage.prototype.clearMessages = function () {
    while (this.messages.firstChild) {
      this.messages.removeChild(this.messages.firstChild);
    }
    this.lastBotBubble = null;
    this.hideTyping();
  };

  ChatPage.prototype.scrollDown = function () {
    var log = this.messages.parentNode;
    log.scrollTop = log.scrollHeight;
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("chat");
    if (!root) {
      return;
    }
    takeToken();
    new ChatPage(root).start();
  });
})();
