// The handler form: fields that belong to a switch (allowed time, lifetime)
// show only while it is on, as on the send form.
(function () {
  function setup() {
    document.querySelectorAll(".sub[data-when]").forEach(function (panel) {
      var box = document.getElementById(panel.dataset.when);
      if (!box) return;
      var sync = function () { panel.hidden = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
