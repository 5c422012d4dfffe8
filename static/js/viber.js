/* The Viber send form: the format tabs (each part of the form belongs to the
   formats that send it), the "Символов: N из 1000" counter, and the image
   uploaded as soon as it is picked (the server checks it; the form then sends
   only its id).  Without JavaScript every part shows and the image goes with
   the form. */
(function () {
  "use strict";

  function changed() {
    document.body.dispatchEvent(new CustomEvent("compose-changed"));
  }

  function setupFormats(form) {
    var radios = form.querySelectorAll("input[name=format]");
    function sync() {
      var checked = form.querySelector("input[name=format]:checked");
      var format = checked ? checked.value : "text";
      form.querySelectorAll("[data-formats]").forEach(function (el) {
        el.hidden = el.dataset.formats.split(" ").indexOf(format) < 0;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  function setupCounter(form) {
    var text = form.querySelector("textarea[name=text]");
    var box = form.querySelector("#viber-counter");
    if (!text || !box) return;
    var max = parseInt(text.getAttribute("maxlength") || "1000", 10);
    function update() {
      box.querySelector("[data-chars]").textContent = text.value.length;
      box.classList.toggle("over", text.value.length > max);
    }
    text.addEventListener("input", update);
    update();
  }

  function setupImage(form) {
    var input = form.querySelector("input[type=file][name=image]");
    var hidden = form.querySelector("input[name=image_id]");
    var thumb = form.querySelector("#viber-thumb");
    var error = form.querySelector("[data-image-error]");
    if (!input || !hidden || !thumb) return;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");

    function showError(message) {
      error.innerHTML = "";
      if (message) {
        var li = document.createElement("li");
        li.textContent = message;
        error.appendChild(li);
      }
      error.hidden = !message;
    }

    input.addEventListener("change", function () {
      if (!input.files || !input.files.length) return;
      var data = new FormData();
      data.append("image", input.files[0]);
      showError("");
      input.disabled = true;
      fetch(form.dataset.uploadUrl, {
        method: "POST",
        body: data,
        headers: {"X-CSRFToken": csrf ? csrf.value : ""},
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        input.disabled = false;
        input.value = "";
        if (!result.ok) { showError(result.body.error || "Ошибка загрузки"); return; }
        hidden.value = result.body.id;
        thumb.querySelector("img").src = result.body.thumbnail;
        thumb.querySelector("[data-image-info]").textContent =
          result.body.width + "×" + result.body.height;
        thumb.hidden = false;
        changed();
      }).catch(function () {
        input.disabled = false;
        showError("Не удалось загрузить изображение: проверьте соединение и попробуйте ещё раз.");
      });
    });

    var remove = thumb.querySelector("[data-image-remove]");
    if (remove) {
      remove.addEventListener("click", function () {
        hidden.value = "";
        thumb.hidden = true;
        changed();
      });
    }
  }

  function setup() {
    var form = document.querySelector("form[data-viber]");
    if (!form) return;
    setupFormats(form);
    setupCounter(form);
    setupImage(form);
    if (form.querySelector("input[name=image_id]").value ||
        form.querySelector("textarea[name=text]").value.trim()) {
      window.setTimeout(changed, 300);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
