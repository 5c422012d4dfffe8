/* The operator console: conversations with unread counts, messages live both
   ways over a WebSocket (reconnects and resumes after the last message id),
   typing, visitor information and actions.  Text is always set as text. */
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) return;
  var d = root.dataset;
  var list = document.getElementById("conversations");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("reply-form");
  var input = document.getElementById("reply-text");
  var errorBox = document.getElementById("reply-error");
  var typingBox = document.getElementById("typing");
  var state = document.getElementById("conn-state");
  var csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  var current = null, lastId = 0, ws = null, retry = 0, typingTimer = null, lastTyping = 0;
  var seen = {}, rows = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function uid() {
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function time(iso) {
    var t = new Date(iso); return ("0" + t.getHours()).slice(-2) + ":" + ("0" + t.getMinutes()).slice(-2);
  }
  function channelLabel(c) { return d["tChannel" + c.charAt(0).toUpperCase() + c.slice(1)] || c; }

  function renderList() {
    var ids = Object.keys(rows).sort(function (a, b) { return rows[b].at < rows[a].at ? -1 : rows[b].at > rows[a].at ? 1 : b - a; });
    list.textContent = "";
    if (!ids.length) { list.appendChild(el("li", "muted small", d.tEmpty)); return; }
    ids.forEach(function (id) {
      var r = rows[id];
      var li = el("li", "conv" + (current === r.id ? " active" : "") + (r.status === "closed" ? " closed" : ""));
      li.dataset.conversation = r.id;
      var top = el("div", "conv-top");
      top.appendChild(el("b", "", r.visitor));
      if (r.unread && current !== r.id) top.appendChild(el("span", "badge unread", String(r.unread)));
      li.appendChild(top);
      li.appendChild(el("div", "small muted conv-last", r.last));
      var tags = el("div", "small conv-tags");
      tags.appendChild(el("span", "chip channel-" + r.channel, channelLabel(r.channel)));
      if (r.campaign) tags.appendChild(el("span", "chip", d.tCampaign + " #" + r.campaign));
      if (r.left_message) tags.appendChild(el("span", "chip", d.tLeft));
      if (r.blocked) tags.appendChild(el("span", "chip", d.tBlocked));
      if (r.status === "closed") tags.appendChild(el("span", "chip", d.tClosed));
      li.appendChild(tags);
      li.addEventListener("click", function () { open(r.id); });
      list.appendChild(li);
    });
  }

  function loadList() {
    return fetch(d.list, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      rows = {};
      if (data.last_id > lastId) lastId = data.last_id;
      data.conversations.forEach(function (r) { rows[r.id] = r; });
      renderList();
    });
  }

  function addMessage(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    var li = el("li", "msg " + m.author);
    li.dataset.id = m.id;
    var meta = el("div", "small muted meta", (m.author === "visitor" ? d.tVisitor : m.author === "operator" ? (m.operator || d.tOperator) : "") + " · " + time(m.at) + (m.channel !== "widget" ? " · " + channelLabel(m.channel) : ""));
    li.appendChild(meta);
    li.appendChild(el("div", "text", m.text));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function open(id) {
    current = id;
    history.replaceState(null, "", "?c=" + id);
    return fetch(d.base + id + "/", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      document.getElementById("conv-main").hidden = false;
      document.getElementById("conv-info").hidden = false;
      document.getElementById("conv-title").textContent = data.visitor.label;
      document.getElementById("conv-sub").textContent = [channelLabel(data.conversation.channel), data.conversation.site, data.conversation.status_label].filter(Boolean).join(" · ");
      var note = document.getElementById("campaign-note");
      note.textContent = "";
      if (data.campaign) {
        note.hidden = false;
        var a = el("a", "", d.tCampaign + " #" + data.campaign.id + " (" + channelLabel(data.campaign.channel) + (data.campaign.sender ? ", " + data.campaign.sender : "") + ")");
        a.href = data.campaign.url;
        note.appendChild(a);
        note.appendChild(el("div", "small muted", data.campaign.text));
      } else note.hidden = true;
      log.textContent = ""; seen = {};
      data.messages.forEach(addMessage);
      var info = document.getElementById("visitor-info");
      info.textContent = "";
      [["Имя", data.visitor.name], ["E-mail", data.visitor.email], ["Телефон", data.visitor.phone ? "+" + data.visitor.phone : ""],
       ["Страница", data.visitor.page], ["Откуда пришёл", data.visitor.referrer], ["Браузер", data.visitor.browser], ["IP", data.visitor.ip]]
        .forEach(function (p) { if (p[1]) { info.appendChild(el("dt", "", p[0])); info.appendChild(el("dd", "", p[1])); } });
      var earlier = document.getElementById("earlier");
      earlier.textContent = "";
      data.visitor.earlier.forEach(function (e) { earlier.appendChild(el("li", "", e.at + " · " + e.messages + " · " + e.status)); });
      if (!data.visitor.earlier.length) earlier.appendChild(el("li", "muted", "—"));
      root.querySelector("[data-action=block]").hidden = data.visitor.blocked;
      root.querySelector("[data-action=unblock]").hidden = !data.visitor.blocked;
      rows[id] = data.conversation; rows[id].unread = 0;
      renderList();
      send({ type: "read", conversation: id });
      input.focus();
    });
  }

  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function connect() {
    ws = new WebSocket(d.ws);
    ws.onopen = function () {
      retry = 0;
      if (state) { state.textContent = state.dataset.online; state.className = "chip online"; }
      send({ type: "resume", after: lastId });
    };
    ws.onmessage = function (ev) {
      var e = JSON.parse(ev.data);
      if (e.type === "message") onMessage(e.message);
      else if (e.type === "history") e.messages.forEach(onMessage);
      else if (e.type === "typing" && e.conversation === current) {
        typingBox.textContent = d.tTyping; typingBox.hidden = false;
        clearTimeout(typingTimer); typingTimer = setTimeout(function () { typingBox.hidden = true; }, 3000);
      } else if (e.type === "error") { errorBox.textContent = e.text; errorBox.hidden = false; }
      else if (e.type === "ack") { errorBox.hidden = true; }
      else if (e.type === "read" && rows[e.conversation]) { rows[e.conversation].unread = 0; renderList(); }
    };
    ws.onclose = function () {
      if (state) { state.textContent = state.dataset.offline; state.className = "chip offline"; }
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  function onMessage(m) {
    if (m.id > lastId) lastId = m.id;
    var r = rows[m.conversation];
    if (!r) { loadList(); return; }
    if (m.conversation === current) {
      addMessage(m);
      if (m.author === "visitor") { typingBox.hidden = true; send({ type: "read", conversation: current }); }
    } else if (m.author === "visitor") r.unread = (r.unread || 0) + 1;
    if (m.author !== "system") r.last = m.text.slice(0, 120);
    r.at = m.at;
    if (m.author === "visitor") r.status = "open";
    renderList();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || !current) return;
    if (send({ type: "message", conversation: current, text: text, client_id: uid() })) { input.value = ""; lastTyping = 0; }
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (current && now - lastTyping > 2000) { lastTyping = now; send({ type: "typing", conversation: current }); }
  });
  root.querySelectorAll("[data-canned]").forEach(function (b) {
    b.addEventListener("click", function () { input.value = b.dataset.canned; input.focus(); });
  });
  root.querySelectorAll("[data-action]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!current) return;
      var body = new URLSearchParams();
      body.set("operator", document.getElementById("transfer-to").value);
      body.set("email", document.getElementById("transcript-email").value);
      var out = document.getElementById("action-result");
      fetch(d.base + current + "/" + b.dataset.action + "/", {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (r) { return r.json(); }).then(function (res) {
        out.textContent = res.error || (b.dataset.action === "transcript" ? d.tSent + " " + body.get("email") : "✓");
        out.className = res.error ? "small errorlist" : "small";
        return loadList().then(function () { return open(current); });
      });
    });
  });

  setInterval(function () { send({ type: "ping" }); }, 20000);
  // Events written by another process (an SMS reply taken by a worker) reach
  // this page through the channel layer; without Redis, a periodic resume.
  setInterval(function () { send({ type: "resume", after: lastId }); }, 15000);
  loadList().then(function () {
    var m = /[?&]c=(\d+)/.exec(location.search);
    if (m) open(parseInt(m[1], 10));
    connect();
  });
})();
