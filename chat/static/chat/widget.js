/* SMSinfo online chat widget.  Plain JavaScript, no dependencies; embedded on a
   client's site by
     <script src="https://<cabinet>/chat/widget.js" data-site="KEY" async></script>
   It asks the cabinet for the site's look (CORS: the registered site only),
   opens a WebSocket when the visitor opens the chat (or has a conversation),
   resends unacknowledged messages and resumes after the last message id when the
   connection comes back, and offers a leave-a-message form while no operator is
   online.  Everything the visitor or an operator typed is shown as text. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__smsinfoChat) return;
  window.__smsinfoChat = true;
  var key = script.getAttribute("data-site");
  var server = script.getAttribute("data-server") || new URL(script.src).origin;
  var T = {
    ru: { title: "Online-консультант", placeholder: "Введите сообщение…", send: "Отправить",
          offline: "Сейчас операторов нет в сети. Оставьте сообщение — мы ответим на e-mail.",
          name: "Имя", email: "E-mail", message: "Сообщение", leave: "Оставить сообщение",
          left: "Спасибо! Мы ответим вам на e-mail.", typing: "Оператор печатает…",
          reconnecting: "Нет связи, переподключаемся…", closed: "Диалог закрыт. Напишите, если остались вопросы.",
          open: "Напишите нам", operator: "Оператор", you: "Вы", blocked: "Оператор ограничил переписку с вами." },
    en: { title: "Online help", placeholder: "Type a message…", send: "Send",
          offline: "No operator is online now. Leave a message and we will answer by e-mail.",
          name: "Name", email: "E-mail", message: "Message", leave: "Leave a message",
          left: "Thank you! We will answer by e-mail.", typing: "The operator is typing…",
          reconnecting: "Connection lost, reconnecting…", closed: "The conversation is closed. Write if you have more questions.",
          open: "Chat with us", operator: "Operator", you: "You", blocked: "The operator has blocked this conversation." }
  };
  var SIZES = { small: 300, medium: 340, large: 400 };
  var FONTS = { sans: "Arial, Helvetica, sans-serif", serif: "Georgia, 'Times New Roman', serif", mono: "Menlo, Consolas, monospace" };
  var store = window.localStorage;
  var prefix = "smsinfo-chat:" + key + ":";

  function get(name) { try { return store.getItem(prefix + name); } catch (e) { return null; } }
  function set(name, value) { try { store.setItem(prefix + name, value); } catch (e) { /* private mode */ } }
  function hex(n) {
    var a = new Uint8Array(n); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var visitor = get("visitor");
  if (!/^[0-9a-f]{32}$/.test(visitor || "")) { visitor = hex(16); set("visitor", visitor); }
  var lastId = parseInt(get("last") || "0", 10) || 0;
  var outbox = [];
  try { outbox = JSON.parse(get("outbox") || "[]"); } catch (e) { outbox = []; }

  fetch(server + "/chat/widget/" + encodeURIComponent(key) + "/config/", { credentials: "omit" })
    .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
    .then(function (res) {
      if (!res.ok) { if (window.console) console.warn("Online-чат: " + (res.body.error || "недоступен")); return; }
      start(res.body);
    })
    .catch(function () { if (window.console) console.warn("Online-чат: сервер недоступен"); });

  function start(cfg) {
    var t = T[cfg.language] || T.ru;
    var host = document.createElement("div");
    host.id = "smsinfo-chat";
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var side = cfg.position === "left" ? "left" : "right";
    var width = SIZES[cfg.size] || 340;
    var css = ":host{all:initial}[hidden]{display:none!important}*{box-sizing:border-box;font-family:" + (FONTS[cfg.font] || FONTS.sans) + "}" +
      ".btn{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;background:" + cfg.color + ";color:#fff;border:0;border-radius:24px;padding:12px 18px;font-size:15px;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25)}" +
      ".panel{position:fixed;bottom:76px;" + side + ":20px;z-index:2147483000;width:" + width + "px;max-width:calc(100vw - 40px);height:440px;max-height:calc(100vh - 100px);background:#fff;border-radius:10px;box-shadow:0 4px 24px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;font-size:14px;color:#222}" +
      ".panel[hidden]{display:none}.head{background:" + cfg.color + ";color:#fff;padding:10px 14px;font-weight:bold;display:flex;justify-content:space-between}" +
      ".head button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}.log{flex:1;overflow:auto;padding:10px;margin:0;list-style:none}" +
      ".log li{margin:6px 0;max-width:85%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
      ".log .visitor{margin-left:auto;background:" + cfg.color + ";color:#fff}.log .operator,.log .greeting{background:#f0f2f5}" +
      ".log .pending{opacity:.6}.log .failed{outline:1px solid #c00}.note{font-size:12px;color:#666;padding:0 10px}" +
      ".err{font-size:12px;color:#b00;padding:0 10px}form{display:flex;gap:6px;padding:8px;border-top:1px solid #eee}" +
      "form.leave{flex-direction:column}textarea,input{flex:1;border:1px solid #ccc;border-radius:6px;padding:6px;font-size:14px;resize:none}" +
      "form button{background:" + cfg.color + ";color:#fff;border:0;border-radius:6px;padding:6px 12px;cursor:pointer}";
    root.innerHTML = "<style>" + css + "</style>";
    function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
    var button = el("button", "btn", t.open); button.type = "button"; button.setAttribute("part", "button");
    var panel = el("div", "panel"); panel.hidden = true; panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", t.title);
    var head = el("div", "head"); head.appendChild(el("span", "", t.title));
    var x = el("button", "", "×"); x.type = "button"; x.setAttribute("aria-label", "×"); head.appendChild(x);
    var log = el("ol", "log");
    if (cfg.greeting) log.appendChild(el("li", "greeting", cfg.greeting));
    var note = el("div", "note"); var err = el("div", "err");
    var form = el("form", "send");
    var input = el("textarea"); input.rows = 2; input.maxLength = cfg.max || 2000; input.placeholder = t.placeholder; input.setAttribute("aria-label", t.placeholder);
    var sendBtn = el("button", "", t.send); sendBtn.type = "submit";
    form.appendChild(input); form.appendChild(sendBtn);
    var leave = el("form", "leave"); leave.hidden = true;
    leave.appendChild(el("div", "note", t.offline));
    var lName = el("input"); lName.placeholder = t.name; lName.setAttribute("aria-label", t.name);
    var lEmail = el("input"); lEmail.type = "email"; lEmail.placeholder = t.email; lEmail.setAttribute("aria-label", t.email);
    var lText = el("textarea"); lText.rows = 3; lText.placeholder = t.message; lText.setAttribute("aria-label", t.message); lText.maxLength = cfg.max || 2000;
    var lBtn = el("button", "", t.leave); lBtn.type = "submit";
    [lName, lEmail, lText, lBtn].forEach(function (n) { leave.appendChild(n); });
    [head, log, note, err, form, leave].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(panel); root.appendChild(button);
    document.body.appendChild(host);

    var ws = null, connectedOnce = false, retry = 0, online = !!cfg.online, typingTimer = null, lastTyping = 0, byId = {}, blocked = false;

    function showMode() {
      var offline = !online && !Object.keys(byId).length && !outbox.length;
      form.hidden = offline || blocked; leave.hidden = !offline || blocked;
    }
    function bubble(m) {
      if (m.id && byId[m.id]) return;
      var pending = m.client_id && log.querySelector('[data-client="' + m.client_id + '"]');
      var li = pending || el("li");
      li.className = m.author === "visitor" ? "visitor" : "operator";
      li.textContent = m.text;
      if (m.id) { li.setAttribute("data-id", m.id); byId[m.id] = true; }
      if (!pending) log.appendChild(li);
      log.scrollTop = log.scrollHeight;
      if (m.id > lastId) { lastId = m.id; set("last", String(lastId)); }
    }
    function saveOutbox() { set("outbox", JSON.stringify(outbox)); }
    function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
    function flush() { outbox.forEach(function (m) { send({ type: "message", text: m.text, client_id: m.client_id }); }); }

    function connect() {
      if (ws && ws.readyState <= 1) return;
      var url = cfg.ws + "?site=" + encodeURIComponent(key) + "&visitor=" + visitor;
      ws = new WebSocket(url);
      ws.onopen = function () {
        retry = 0; note.textContent = "";
        // The first connection of a page shows the whole open conversation; a
        // reconnection asks only for what came after the last message seen.
        send({ type: "hello", after: connectedOnce ? lastId : 0, page: location.href, referrer: document.referrer });
        connectedOnce = true;
        flush();
      };
      ws.onmessage = function (ev) {
        var e; try { e = JSON.parse(ev.data); } catch (x) { return; }
        if (e.type === "ready" || e.type === "state") { online = e.online; showMode(); }
        else if (e.type === "history") { e.messages.forEach(bubble); showMode(); }
        else if (e.type === "message") { bubble(e.message); if (e.message.author === "operator") note.textContent = ""; showMode(); }
        else if (e.type === "ack") {
          outbox = outbox.filter(function (m) { return m.client_id !== e.client_id; }); saveOutbox();
          var p = log.querySelector('[data-client="' + e.client_id + '"]');
          if (p) { p.classList.remove("pending"); if (!byId[e.id]) { p.setAttribute("data-id", e.id); byId[e.id] = true; if (e.id > lastId) { lastId = e.id; set("last", String(lastId)); } } }
          err.textContent = "";
        }
        else if (e.type === "error") {
          if (e.code === "blocked") { blocked = true; err.textContent = t.blocked; showMode(); return; }
          err.textContent = e.text || "";
          if (e.client_id) {
            outbox = outbox.filter(function (m) { return m.client_id !== e.client_id; }); saveOutbox();
            var f = log.querySelector('[data-client="' + e.client_id + '"]');
            if (f) f.className = "visitor failed";
          }
        }
        else if (e.type === "typing") {
          note.textContent = t.typing; clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { note.textContent = ""; }, 3000);
        }
        else if (e.type === "left") { leave.hidden = true; note.textContent = t.left; }
        else if (e.type === "closed") { note.textContent = t.closed; }
      };
      ws.onclose = function (ev) {
        if (blocked || ev.code === 4003) return;
        note.textContent = t.reconnecting;
        retry = Math.min(retry + 1, 5);
        setTimeout(connect, 500 * Math.pow(2, retry - 1));
      };
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      var m = { text: text, client_id: hex(16) };
      outbox.push(m); saveOutbox();
      var li = el("li", "visitor pending", text); li.setAttribute("data-client", m.client_id);
      log.appendChild(li); log.scrollTop = log.scrollHeight;
      input.value = ""; lastTyping = 0;
      send({ type: "message", text: text, client_id: m.client_id });
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); if (form.requestSubmit) form.requestSubmit(); else sendBtn.click(); }
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (input.value && now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
    });
    leave.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send({ type: "leave", name: lName.value, email: lEmail.value, text: lText.value });
    });
    function toggle(show) {
      panel.hidden = !show; set("open", show ? "1" : "");
      if (show) { connect(); showMode(); input.focus(); }
    }
    button.addEventListener("click", function () { toggle(panel.hidden); });
    x.addEventListener("click", function () { toggle(false); });
    showMode();
    // A visitor with a conversation (or unsent messages) is connected at once,
    // so an operator's answer arrives even with the panel closed.
    if (lastId || outbox.length || get("open")) { if (get("open")) toggle(true); else connect(); }
    outbox.forEach(function (m) {
      var li = el("li", "visitor pending", m.text); li.setAttribute("data-client", m.client_id); log.appendChild(li);
    });
  }
})();
