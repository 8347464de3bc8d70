/* The worked solution's graph: pointing at a node, clicking it or reaching it with the
 * keyboard shows its value, gradient and chain in the panel beside the graph. */
(function () {
  "use strict";
  var nodes = document.querySelectorAll("svg .node");
  var details = document.querySelectorAll("[data-detail-for]");
  var prompt = document.getElementById("prompt");
  var selected = null;
  function show(name) {
    details.forEach(function (d) { d.hidden = d.getAttribute("data-detail-for") !== name; });
    if (prompt) prompt.hidden = name !== null;
  }
  function select(node) {
    if (selected) selected.classList.remove("selected");
    selected = node;
    if (node) node.classList.add("selected");
    show(node ? node.getAttribute("data-node") : null);
  }
  nodes.forEach(function (node) {
    var name = node.getAttribute("data-node");
    node.addEventListener("mouseenter", function () { show(name); });
    node.addEventListener("mouseleave", function () {
      show(selected ? selected.getAttribute("data-node") : null);
    });
    node.addEventListener("focus", function () { select(node); });
    node.addEventListener("click", function () { select(node); });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(node); }
      if (event.key === "Escape") { node.blur(); select(null); }
    });
  });
})();
