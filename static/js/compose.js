/* The SMS send form: live part/character counter (the same rules as
   messaging/sms_text.count_sms), the "Подставить" menu, option panels,
   template dialog and the price/preview refresh. */
(function () {
  "use strict";

  // GSM 03.38 basic table and extension table (extension chars cost 2 septets).
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅå" + "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
    " !\"#¤%&'()*+,-./0123456789:;<=>?" + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "\f^{}\\[~]|€";
  var basic = new Set(BASIC);
  var ext = new Set(EXT);
  var COMMAND = /\[[^\[\]\n]{1,60}\]/;

  function split(text, total, single, multi, encoding, cost) {
    if (total <= single) {
      return {encoding: encoding, parts: 1, chars: total, chars_left: single - total,
              per_part: single};
    }
    // Greedy split as the SMSC does: an ESC pair or a surrogate pair never
    // straddles two parts.
    var parts = 1, used = 0;
    for (var ch of text) {
      var c = cost(ch);
      used += c;
      if (used > multi) { parts += 1; used = c; }
    }
    return {encoding: encoding, parts: parts, chars: total, chars_left: multi - used,
            per_part: multi};
  }

  function countSms(text) {
    var septets = 0, gsm = true;
    for (var ch of text) {
      if (basic.has(ch)) septets += 1;
      else if (ext.has(ch)) septets += 2;
      else { gsm = false; break; }
    }
    if (gsm) {
      return split(text, septets, 160, 153, "gsm7", function (c) { return ext.has(c) ? 2 : 1; });
    }
    // UCS-2 counted in UTF-16 code units: String.length is exactly that.
    return split(text, text.length, 70, 67, "ucs2", function (c) { return c.length; });
  }
  window.countSms = countSms;

  // sms_text.transliterate's table (rendered by the page): with "Транслитерация
  // СМС" on, the counter counts the text as it will be sent.
  var TRANSLIT = null;
  var translitNode = document.getElementById("translit-table");
  if (translitNode) {
    try { TRANSLIT = JSON.parse(translitNode.textContent); } catch (e) { TRANSLIT = null; }
  }
  function transliterate(text) {
    if (!TRANSLIT) return text;
    var out = "";
    for (var ch of text) {
      var v = TRANSLIT[ch];
      out += v === undefined ? ch : v;
    }
    return out;
  }
  window.transliterateForCount = transliterate;

  function changed() {
    document.body.dispatchEvent(new CustomEvent("compose-changed"));
  }

  function setupCounter(form) {
    var textarea = form.querySelector("textarea[name=text]");
    var box = form.querySelector("#sms-counter");
    if (!textarea || !box) return;
    var translitBox = form.querySelector("input[name=transliterate]");
    function update() {
      var value = textarea.value;
      if (translitBox && translitBox.checked) value = transliterate(value);
      var r = countSms(value);
      box.querySelector("[data-parts]").textContent = r.parts;
      box.querySelector("[data-left]").textContent = r.chars_left;
      box.querySelector("[data-per]").textContent = r.per_part;
      box.querySelector("[data-encoding]").textContent = r.encoding === "gsm7" ? "GSM-7" : "UCS-2";
      box.dataset.encoding = r.encoding;
      box.dataset.parts = r.parts;
      box.dataset.chars = r.chars;
      box.dataset.left = r.chars_left;
      box.querySelector("[data-approx]").hidden = !COMMAND.test(textarea.value);
      box.classList.toggle("multi", r.parts > 1);
    }
    textarea.addEventListener("input", update);
    if (translitBox) translitBox.addEventListener("change", update);
    update();
  }

  function insertAtCursor(textarea, value) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    if (typeof start !== "number") { start = end = textarea.value.length; }
    textarea.value = textarea.value.slice(0, start) + value + textarea.value.slice(end);
    var pos = start + value.length;
    textarea.focus();
    textarea.setSelectionRange(pos, pos);
    textarea.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function setupInsertMenu(form) {
    var menu = form.querySelector(".insert-menu");
    var textarea = form.querySelector("textarea[name=text]");
    if (!menu || !textarea) return;
    menu.addEventListener("click", function (e) {
      var item = e.target.closest("[data-insert]");
      if (item) {
        insertAtCursor(textarea, item.dataset.insert);
        menu.open = false;
        return;
      }
      if (e.target.closest("[data-custom-salutation]")) {
        var box = menu.querySelector(".custom-salutation");
        box.hidden = !box.hidden;
        if (!box.hidden) box.querySelector("[data-male]").focus();
        return;
      }
      if (e.target.closest("[data-custom-insert]")) {
        var male = menu.querySelector("[data-male]").value.trim();
        var female = menu.querySelector("[data-female]").value.trim() || male;
        if (!male) { menu.querySelector("[data-male]").focus(); return; }
        insertAtCursor(textarea, "[Обращение:" + male + "/" + female + "]");
        menu.open = false;
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
  }

  function setupPanels(form) {
    form.querySelectorAll(".sub[data-when]").forEach(function (panel) {
      var box = document.getElementById(panel.dataset.when);
      if (!box) return;
      var sync = function () { panel.hidden = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
    var promo = form.querySelector("input[name=promo]");
    var action = form.querySelector("select[name=promo_action]");
    var promoItem = form.querySelector(".promo-insert");
    if (promo && promoItem) {
      var syncPromo = function () {
        promoItem.hidden = !(promo.checked && action && action.value);
      };
      promo.addEventListener("change", syncPromo);
      if (action) action.addEventListener("change", syncPromo);
      syncPromo();
    }
    var clear = form.querySelector("[data-clear-filters]");
    if (clear) {
      clear.addEventListener("click", function () {
        form.querySelector("input[name=filters]").value = "";
        clear.closest(".filter-chip").remove();
        changed();
      });
    }
  }

  function setupDialogs(root) {
    root.querySelectorAll("[data-open-dialog]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        document.getElementById(btn.dataset.openDialog).showModal();
      });
    });
    root.querySelectorAll("dialog").forEach(function (dialog) {
      dialog.querySelectorAll("[data-close-dialog]").forEach(function (btn) {
        btn.addEventListener("click", function () { dialog.close(); });
      });
      if (dialog.hasAttribute("data-open")) dialog.showModal();
      var radios = dialog.querySelectorAll("input[name=mode]");
      if (radios.length) {
        var sync = function () {
          var mode = (dialog.querySelector("input[name=mode]:checked") || {}).value || "new";
          dialog.querySelectorAll("[data-mode]").forEach(function (el) {
            el.hidden = el.dataset.mode !== mode;
          });
        };
        radios.forEach(function (r) { r.addEventListener("change", sync); });
        sync();
      }
    });
  }

  function setup() {
    setupDialogs(document);
    var form = document.querySelector("form[data-compose]");
    if (!form) return;
    setupCounter(form);
    setupInsertMenu(form);
    setupPanels(form);
    form.addEventListener("input", function (e) {
      if (!e.target.closest("dialog") && !e.target.closest(".insert-menu")) changed();
    });
    form.addEventListener("change", function (e) {
      if (!e.target.closest("dialog") && !e.target.closest(".insert-menu")) changed();
    });
    // A prefilled form (repeat, template, error) shows its price right away.
    var text = form.querySelector("textarea[name=text]");
    if (text && text.value.trim() && document.getElementById("estimate")) {
      window.setTimeout(changed, 300);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
