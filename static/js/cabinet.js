// What the cabinet does when an htmx request fails: htmx swaps nothing on an
// error, so without this a click would seem to do nothing.  The texts come
// translated from data attributes of #htmx-errors (templates/base.html).
(function () {
  function box() {
    return document.getElementById("htmx-errors");
  }

  function show(status) {
    var target = box();
    if (!target) return;
    var text;
    if (status === 0) text = target.dataset.network;
    else if (status === 403) text = target.dataset.forbidden;
    else if (status === 404) text = target.dataset.gone;
    else if (status === 429) text = target.dataset.busy;
    else if (status >= 500) text = target.dataset.server;
    else text = target.dataset.client;
    target.textContent = "";
    var item = document.createElement("li");
    item.className = "error";
    item.textContent = text;
    target.appendChild(item);
    target.hidden = false;
    target.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", function (event) {
    show(event.detail.xhr ? event.detail.xhr.status : 0);
  });
  document.addEventListener("htmx:sendError", function () {
    show(0);
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var target = box();
    if (target) target.hidden = true;
  });
})();

// The phone menu: «☰ Меню» opens and closes the sections (cabinet.css hides
// them below 800px).
document.addEventListener("click", function (event) {
  var toggle = event.target.closest && event.target.closest(".menu-toggle");
  if (!toggle) return;
  var open = document.body.classList.toggle("menu-open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});


// A field's error goes away once the person edits that field (it said what
// was wrong with the value they have since changed).
(function () {
  function clear(event) {
    var control = event.target;
    if (!control || !control.form) return;
    var field = control.closest(".field");
    if (field) {
      field.querySelectorAll(".errorlist").forEach(function (list) {
        list.remove();
      });
      field.classList.remove("has-error");
      return;
    }
    var next = control.nextElementSibling;
    if (next && next.classList.contains("errorlist")) next.remove();
  }
  document.addEventListener("input", clear, true);
  document.addEventListener("change", clear, true);
})();
