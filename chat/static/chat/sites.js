/* «Мои сайты»: dialogs, the widget's live preview while «Внешний вид» is
   edited, copying the embed code. */
(function () {
  "use strict";
  document.querySelectorAll("[data-open-dialog]").forEach(function (b) {
    b.addEventListener("click", function () { document.getElementById(b.dataset.openDialog).showModal(); });
  });
  document.querySelectorAll("dialog").forEach(function (dlg) {
    if (dlg.hasAttribute("data-open")) dlg.showModal();
    dlg.querySelectorAll("[data-close-dialog]").forEach(function (b) {
      b.addEventListener("click", function () { dlg.close(); });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) { if (!confirm(f.dataset.confirm)) ev.preventDefault(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var area = document.getElementById(b.dataset.copy);
      area.select();
      if (navigator.clipboard) navigator.clipboard.writeText(area.value).catch(function () { document.execCommand("copy"); });
      else document.execCommand("copy");
    });
  });
  var form = document.getElementById("appearance");
  var mock = document.getElementById("widget-mock");
  if (!form || !mock) return;
  var FONTS = { sans: "Arial, Helvetica, sans-serif", serif: "Georgia, 'Times New Roman', serif", mono: "Menlo, Consolas, monospace" };
  var SIZES = { small: 0.85, medium: 1, large: 1.2 };
  function val(name) { var f = form.elements[name]; return f ? f.value : ""; }
  function render() {
    mock.style.setProperty("--wm-color", val("color"));
    mock.style.fontFamily = FONTS[val("font")] || FONTS.sans;
    mock.style.setProperty("--wm-scale", SIZES[val("size")] || 1);
    mock.dataset.position = val("position");
    document.getElementById("wm-greeting").textContent = val("greeting");
    document.getElementById("wm-button").textContent = (val("language") === "en" ? mock.dataset.langEn : mock.dataset.langRu);
  }
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  render();
})();
