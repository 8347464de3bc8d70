/* The practice page: every entry judged on change by the verifier's rules (judge.js) on
 * the problem's generated arithmetic (SYMBACKPROP_FUNCTIONS); hints and answers on demand. */
(function () {
  "use strict";
  var model = JSON.parse(document.getElementById("model").textContent);
  var judge = new SymbackpropJudge.Judge(model.data, SYMBACKPROP_FUNCTIONS);
  var quantity = {};
  model.entries.forEach(function (e) { quantity[e.key] = e.q; });
  var inputs = Array.prototype.slice.call(document.querySelectorAll("input[data-key]"));
  var summary = document.getElementById("summary");
  var statuses = {};
  var rules = model.data.rules;  // the judge's statuses and words, from Python

  function verdictOf(key) { return document.querySelector('[data-verdict-for="' + CSS.escape(key) + '"]'); }

  function update() {
    var entries = [];
    inputs.forEach(function (input) {
      var key = input.getAttribute("data-key");
      var text = input.value.trim();
      var out = verdictOf(key);
      out.className = "verdict";
      statuses[key] = "";
      if (!text) { out.textContent = ""; return; }
      if (judge.parse(text) === null) {
        out.textContent = "not a number: write it as 0.1234, -5e-05";
        return;
      }
      entries.push({key: key, q: quantity[key], text: text});
    });
    var counts = {};
    rules.statuses.forEach(function (s) { counts[s] = 0; });
    judge.judge(entries).forEach(function (v) {
      var out = verdictOf(v.key);
      out.textContent = v.status + (v.note ? ": " + v.note : "");
      out.className = "verdict " + v.status;
      if (v.mistake) out.setAttribute("data-mistake", v.mistake); else out.removeAttribute("data-mistake");
      statuses[v.key] = v.status;
      counts[v.status] += 1;
    });
    summary.textContent = entries.length + " of " + inputs.length + " entered: " +
      rules.statuses.map(function (s) { return counts[s] + " " + s; }).join(", ");
  }

  inputs.forEach(function (input) { input.addEventListener("change", update); });
  document.querySelectorAll("[data-show]").forEach(function (button) {
    button.addEventListener("click", function () {
      var answer = document.querySelector('[data-answer-for="' + CSS.escape(button.getAttribute("data-show")) + '"]');
      answer.hidden = false;
      button.hidden = true;
    });
  });
  document.getElementById("hint").addEventListener("click", function () {
    var hints = document.querySelectorAll("[data-hint-for]");
    for (var i = 0; i < hints.length; i++) {
      var key = hints[i].getAttribute("data-hint-for");
      var done = rules.accepted.indexOf(statuses[key]) >= 0;
      if (hints[i].hidden && !done) {
        hints[i].hidden = false;
        var input = document.querySelector('input[data-key="' + CSS.escape(key) + '"]');
        if (input) input.focus();
        return;
      }
    }
  });
})();
