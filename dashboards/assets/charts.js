// Målbild: draws every chart on the page. The chart options are JSON data
// in <script type="application/json"> elements written by the server; this
// file only reads them and hands them to echarts (served by Målbild
// itself). Without JavaScript the data tables next to each chart carry the
// same information.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  // Print buttons only work with JavaScript, so they start hidden.
  var printers = document.querySelectorAll("[data-print]");
  for (var p = 0; p < printers.length; p++) {
    printers[p].hidden = false;
    printers[p].addEventListener("click", function () { window.print(); });
  }
  if (typeof window.echarts === "undefined") {
    return;
  }
  var charts = [];
  var nodes = document.querySelectorAll("[data-chart]");
  for (var i = 0; i < nodes.length; i++) {
    var el = nodes[i];
    var src = document.getElementById(el.getAttribute("data-chart"));
    if (!src) {
      continue;
    }
    var option;
    try {
      option = JSON.parse(src.textContent);
    } catch (e) {
      continue;
    }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    el.setAttribute("data-drawn", "true");
    charts.push(chart);
  }
  var resize = function () {
    for (var j = 0; j < charts.length; j++) {
      charts[j].resize();
    }
  };
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();
