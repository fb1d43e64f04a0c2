// CaseHub console: charts from server-written JSON, nothing else inline (the CSP forbids it).
(function () {
  "use strict";

  function drawCharts() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var series = data[element.dataset.chart];
      if (!series || !series.values.length) {
        element.hidden = true;
        return;
      }
      var chart = window.echarts.init(element, dark ? "dark" : null, { renderer: "svg" });
      var option;
      if (element.dataset.kind === "pie") {
        option = {
          backgroundColor: "transparent",
          tooltip: { trigger: "item" },
          series: [{
            type: "pie",
            radius: ["40%", "70%"],
            data: series.labels.map(function (label, i) { return { name: label, value: series.values[i] }; }),
          }],
        };
      } else {
        option = {
          backgroundColor: "transparent",
          tooltip: { trigger: "axis" },
          grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: series.labels.slice().reverse() },
          series: [{ type: "bar", data: series.values.slice().reverse() }],
        };
      }
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // echarts is loaded with `defer` after this script: wait for the window's load.
    window.addEventListener("load", drawCharts);
  });
})();
