// Progressive enhancement for the definition form: find ESCO skills by name and add their URIs
// to the "skills" text area. Without JavaScript the text area alone works.
(function () {
  "use strict";
  function labelOf(hit) { return hit.label || hit.preferred_label || hit.uri; }
  function setUp(picker) {
    var target = document.getElementById(picker.dataset.target);
    var input = picker.querySelector("input[type=search]");
    var results = picker.querySelector("ul");
    if (!target || !input || !results) { return; }
    picker.hidden = false;
    var timer = null;
    function add(uri) {
      var lines = target.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
      if (lines.indexOf(uri) === -1) { lines.push(uri); }
      target.value = lines.join("\n");
    }
    function show(hits) {
      results.textContent = "";
      hits.slice(0, 10).forEach(function (hit) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button skill-choice";
        button.textContent = "Add " + labelOf(hit);
        button.addEventListener("click", function () { add(hit.uri); input.focus(); });
        item.appendChild(button);
        results.appendChild(item);
      });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < 2) { results.textContent = ""; return; }
      timer = setTimeout(function () {
        fetch("/api/v1/skills?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (body) { show(Array.isArray(body) ? body : (body.items || body.hits || [])); })
          .catch(function () { results.textContent = ""; });
      }, 200);
    });
  }
  document.querySelectorAll(".skill-picker").forEach(setUp);
})();
