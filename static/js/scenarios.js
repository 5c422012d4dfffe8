/* The scenario builder (manual 7.1): drag a channel from the palette (1) onto
   the chain (2) with SortableJS, reorder blocks by dragging — or, from the
   keyboard, with «Добавить», «Выше», «Ниже»; copy and delete blocks.  On save
   the chain is posted as JSON; the server checks every block as its channel's
   own send. */
(function () {
  "use strict";
  var chain = document.getElementById("scenario-chain");
  var palette = document.getElementById("scenario-palette");
  var form = document.getElementById("scenario-form");
  if (!chain || !palette || !form) return;

  function blockFor(code) {
    var tpl = document.getElementById("block-template-" + code);
    return tpl ? tpl.content.firstElementChild.cloneNode(true) : null;
  }

  function renumber() {
    var blocks = chain.querySelectorAll(".scenario-block");
    blocks.forEach(function (b, i) {
      b.querySelector(".block-number").textContent = (i + 1) + ". ";
      b.querySelector("[data-move=up]").disabled = i === 0;
      b.querySelector("[data-move=down]").disabled = i === blocks.length - 1;
    });
    document.getElementById("chain-empty").hidden = blocks.length > 0;
  }

  function add(code, before) {
    var block = blockFor(code);
    if (!block) return null;
    chain.insertBefore(block, before || null);
    renumber();
    var first = block.querySelector("textarea, select, input");
    if (first) first.focus();
    return block;
  }

  palette.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-add]");
    if (btn) add(btn.getAttribute("data-add"));
  });

  chain.addEventListener("click", function (e) {
    var block = e.target.closest(".scenario-block");
    if (!block) return;
    var move = e.target.closest("[data-move]");
    if (move) {
      if (move.getAttribute("data-move") === "up" && block.previousElementSibling) {
        chain.insertBefore(block, block.previousElementSibling);
      } else if (move.getAttribute("data-move") === "down" && block.nextElementSibling) {
        chain.insertBefore(block.nextElementSibling, block);
      }
      renumber();
      move.disabled ? block.querySelector("[data-move]:not(:disabled)").focus() : move.focus();
      return;
    }
    if (e.target.closest("[data-remove]")) {
      var next = block.nextElementSibling || block.previousElementSibling;
      block.remove();
      renumber();
      if (next) next.querySelector("button").focus();
      return;
    }
    if (e.target.closest("[data-copy]")) {
      var copy = block.cloneNode(true);
      // Form values typed by the user are properties, not attributes: copy them.
      var from = block.querySelectorAll("input, textarea, select");
      var to = copy.querySelectorAll("input, textarea, select");
      from.forEach(function (el, i) { to[i].value = el.value; });
      chain.insertBefore(copy, block.nextElementSibling);
      renumber();
      copy.querySelector("button").focus();
    }
  });

  if (window.Sortable) {
    window.Sortable.create(palette, {
      group: { name: "scenario", pull: "clone", put: false },
      sort: false,
      filter: "button",
      preventOnFilter: false,
    });
    window.Sortable.create(chain, {
      group: { name: "scenario", pull: false, put: true },
      handle: ".handle",
      animation: 150,
      onAdd: function (evt) {
        // A palette item dropped on the chain becomes that channel's block.
        var item = evt.item;
        var code = item.getAttribute("data-channel");
        var next = item.nextElementSibling;
        item.remove();
        add(code, next);
      },
      onSort: renumber,
    });
  }

  function collect() {
    return Array.prototype.map.call(chain.querySelectorAll(".scenario-block"), function (b) {
      var content = {};
      b.querySelectorAll(".f-content").forEach(function (el) {
        var v = el.value.trim();
        if (v === "") return;
        var kind = el.getAttribute("data-kind");
        if (kind === "number") {
          content[el.getAttribute("data-name")] = Number(v);
        } else if (kind === "json") {
          try { content[el.getAttribute("data-name")] = JSON.parse(v); }
          catch (err) { content[el.getAttribute("data-name")] = v; }
        } else {
          content[el.getAttribute("data-name")] = v;
        }
      });
      var options = {};
      var from = b.querySelector(".f-window-from").value;
      var to = b.querySelector(".f-window-to").value;
      if (from || to) options.window = { from: from || "00:00", to: to || "23:59" };
      var translit = b.querySelector(".f-transliterate");
      if (translit && translit.checked) options.transliterate = true;
      return {
        options: options,
        channel: b.getAttribute("data-channel"),
        sender: b.querySelector(".f-sender").value,
        text: b.querySelector(".f-text").value,
        content: content,
        decision_minutes: b.querySelector(".f-decision").value,
        ttl_minutes: b.querySelector(".f-ttl").value,
      };
    });
  }

  form.addEventListener("submit", function () {
    document.getElementById("scenario-steps").value = JSON.stringify(collect());
  });

  var errorStep = form.getAttribute("data-error-step");
  if (errorStep !== "") {
    var bad = chain.querySelectorAll(".scenario-block")[Number(errorStep)];
    if (bad) bad.classList.add("has-error");
  }
  renumber();
})();

/* The launch form: «Отправить позже» shows its date and time. */
(function () {
  "use strict";
  var form = document.getElementById("launch-form");
  if (!form) return;
  form.querySelectorAll(".sub[data-when]").forEach(function (panel) {
    var box = document.getElementById(panel.dataset.when);
    if (!box) return;
    var sync = function () { panel.style.display = box.checked ? "" : "none"; };
    box.addEventListener("change", sync);
    sync();
  });
})();
