// Målbild: draws the charts of the page. The chart options are JSON data
// in <script type="application/json"> elements written by the server; this
// file only reads them and hands them to echarts (served by Målbild
// itself). Without JavaScript the data tables next to each chart carry the
// same information.
//
// Weight and speed: the echarts bundle (named by this script's
// data-echarts attribute) is only fetched when the first chart comes into
// view, each chart is drawn when it scrolls into view (not before: on a
// phone the charts lie below the first screen, and a page that is only
// read at its top never runs echarts), and each in
// tasks of its own (one to make it, one to draw it), so no long task draws
// them all.
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
  var me = document.currentScript;
  var bundle = me ? me.getAttribute("data-echarts") : null;
  var nodes = document.querySelectorAll("[data-chart]");
  if (!bundle || nodes.length === 0) {
    return;
  }

  var charts = [];
  var queue = [];
  var busy = false;
  var prepared = null; // the chart made but not yet drawn
  var loading = null; // the <script> fetching echarts, once started

  // format takes the chart's number format (data written by the server
  // under "malbildFormat", never code: the CSP allows no eval) out of the
  // options and sets echarts formatters from it, writing numbers as the
  // server does (progress.FormatNumber): two decimals below 1, one below
  // 1 000, none above, with the page language's decimal sign and digit
  // grouping ("99,65 %" and "1 000" on Swedish pages, "99.65%" and
  // "1,000" on English ones). The signs come with the format, so no
  // Intl.NumberFormat is built: making the first one costs more than the
  // rest of a small chart on a slow phone.
  var format = function (option) {
    var f = option.malbildFormat;
    delete option.malbildFormat;
    if (!f) {
      return;
    }
    var point = f.point || ".";
    var group = f.group || "";
    var num = function (v) {
      if (typeof v === "string" && v !== "" && v !== "-") {
        v = Number(v);
      }
      if (typeof v !== "number" || !isFinite(v)) {
        return null;
      }
      var a = Math.abs(v);
      if (a >= 1e21) {
        return String(v);
      }
      var parts = a.toFixed(a < 1 ? 2 : a < 1000 ? 1 : 0).split(".");
      var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, group);
      var frac = (parts[1] || "").replace(/0+$/, "");
      var minus = v < 0 && (whole !== "0" || frac !== "") ? "\u2212" : "";
      return minus + whole + (frac ? point + frac : "");
    };
    var axisLabel = function (v) {
      var s = num(v);
      return s === null ? "" : s + (f.axisSuffix || "");
    };
    var value = function (v) {
      if (Array.isArray(v)) {
        return v.map(value).join(", ");
      }
      var s = num(v);
      return s === null ? "–" : s + (f.suffix || "");
    };
    (f.axes || []).forEach(function (name) {
      var axes = option[name];
      if (!axes) {
        return;
      }
      (Array.isArray(axes) ? axes : [axes]).forEach(function (a) {
        a.axisLabel = a.axisLabel || {};
        a.axisLabel.formatter = axisLabel;
      });
    });
    if (option.tooltip) {
      (Array.isArray(option.tooltip) ? option.tooltip : [option.tooltip]).forEach(function (t) {
        t.valueFormatter = value;
      });
    }
  };

  // A chart is made in two tasks, so neither is long on a slow phone:
  // prepare reads and formats its options and makes the (empty) echarts
  // instance, paint hands it the options, which draws it. The container
  // gets data-drawn when the chart is complete.
  var prepare = function (el) {
    if (el.getAttribute("data-drawn")) {
      return null;
    }
    var src = document.getElementById(el.getAttribute("data-chart"));
    if (!src) {
      return null;
    }
    var option;
    try {
      option = JSON.parse(src.textContent);
    } catch (e) {
      return null;
    }
    format(option);
    return { el: el, option: option, chart: window.echarts.init(el, null, { renderer: "svg" }) };
  };

  var paint = function (job) {
    job.chart.setOption(job.option);
    job.el.setAttribute("data-drawn", "true");
    charts.push(job.chart);
  };

  // draw makes the chart of one container at once (for printing).
  var draw = function (el) {
    if (prepared && prepared.el === el) {
      var job = prepared;
      prepared = null;
      paint(job);
      return;
    }
    var j = prepare(el);
    if (j) {
      paint(j);
    }
  };

  // later runs fn in a task of its own.
  var later = function (fn) {
    if (window.scheduler && typeof window.scheduler.postTask === "function") {
      window.scheduler.postTask(fn, { priority: "user-visible" });
    } else {
      setTimeout(fn, 0);
    }
  };

  // pump draws the queued charts, one step of one chart per task, once
  // echarts is there.
  var pump = function () {
    if (busy || queue.length === 0 && !prepared) {
      return;
    }
    if (typeof window.echarts === "undefined") {
      if (!loading) {
        loading = document.createElement("script");
        loading.src = bundle;
        loading.addEventListener("load", pump);
        document.head.appendChild(loading);
      }
      return;
    }
    busy = true;
    later(function () {
      busy = false;
      if (prepared) {
        var job = prepared;
        prepared = null;
        paint(job);
      } else if (queue.length > 0) {
        prepared = prepare(queue.shift());
      }
      pump();
    });
  };

  var want = function (el) {
    if (!el.getAttribute("data-drawn") && queue.indexOf(el) < 0) {
      queue.push(el);
    }
  };

  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      for (var k = 0; k < entries.length; k++) {
        if (entries[k].isIntersecting) {
          seen.unobserve(entries[k].target);
          want(entries[k].target);
        }
      }
      pump();
    });
    for (var i = 0; i < nodes.length; i++) {
      seen.observe(nodes[i]);
    }
  } else {
    for (var n = 0; n < nodes.length; n++) {
      want(nodes[n]);
    }
    pump();
  }

  var resize = function () {
    for (var j = 0; j < charts.length; j++) {
      charts[j].resize();
    }
  };
  window.addEventListener("resize", resize);
  // A printout shows every chart: those not yet drawn are drawn now, if
  // echarts has come (otherwise the tables beside them carry the data).
  window.addEventListener("beforeprint", function () {
    if (typeof window.echarts !== "undefined") {
      for (var m = 0; m < nodes.length; m++) {
        draw(nodes[m]);
      }
    }
    resize();
  });
  window.addEventListener("afterprint", resize);
})();
