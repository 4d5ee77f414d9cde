// Quiz countdown. The server is the authority on the deadline; this only shows the time left
// and submits the saved answers when it reaches zero.
(function () {
  "use strict";
  var timer = document.getElementById("countdown");
  var form = document.getElementById("quiz-form");
  if (!timer || !form) return;
  var deadline = Date.now() + 1000 * parseInt(timer.getAttribute("data-seconds-left"), 10);
  var submitted = false;
  // The timer itself is silent for screen readers (aria-live="off"); this says once when a
  // minute is left, so they hear it without a second-by-second count.
  var warning = document.createElement("p");
  warning.className = "visually-hidden";
  warning.setAttribute("role", "alert");
  timer.parentNode.insertBefore(warning, timer.nextSibling);
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    timer.textContent = "Time left: " + Math.floor(left / 60) + " min " + (left % 60) + " s";
    if (left <= 60 && !timer.classList.contains("alert-error")) {
      timer.classList.add("alert-error");
      if (left > 0) warning.textContent = "One minute left: your answers are sent when the time is up.";
    }
    if (left === 0 && !submitted) {
      submitted = true;
      var finish = document.createElement("input");
      finish.type = "hidden";
      finish.name = "action";
      finish.value = "finish";
      form.appendChild(finish);
      form.submit();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
