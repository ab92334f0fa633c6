/* Dashboard charts (roll-up area). Data comes from the element's data-src (JSON); every
   bar and slice links to the ticket list behind it. No inline script: CSP allows 'self'. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard-charts");
  if (!root || typeof echarts === "undefined") { return; }

  function chartOf(name) {
    var el = root.querySelector('[data-chart="' + name + '"]');
    return el ? echarts.init(el, null, { renderer: "svg" }) : null;
  }

  function follow(chart) {
    chart.on("click", function (params) {
      var url = params.data && params.data.url;
      if (url) { window.location.href = url; }
    });
  }

  function stacked(chart, title, rows, labels) {
    if (!chart) { return; }
    var names = rows.map(function (r) { return r.label; });
    function series(key, colour) {
      return {
        name: labels[key], type: "bar", stack: "tickets", itemStyle: { color: colour },
        data: rows.map(function (r) { return { value: r[key], url: r.urls[key] }; })
      };
    }
    chart.setOption({
      title: { text: title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [series("closed", "#198754"), series("open", "#0d6efd"), series("overdue", "#dc3545")]
    });
    follow(chart);
  }

  function pie(chart, title, rows) {
    if (!chart) { return; }
    chart.setOption({
      title: { text: title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 24, bottom: 36,
                 data: rows.filter(function (r) { return r.value > 0; }) }]
    });
    follow(chart);
  }

  function trend(chart, title, data, labels) {
    if (!chart) { return; }
    var empty = data.dates.length === 0;
    chart.setOption({
      title: { text: title, subtext: empty ? labels.no_trend : "", left: "center",
               textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 8, right: 8, top: 48, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: data.dates },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: labels.open_total, type: "line", data: data.open, itemStyle: { color: "#0d6efd" } },
        { name: labels.closed, type: "line", data: data.closed, itemStyle: { color: "#198754" } },
        { name: labels.overdue, type: "line", data: data.overdue, itemStyle: { color: "#dc3545" } }
      ]
    });
  }

  fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var l = data.labels;
      var charts = [chartOf("regions"), chartOf("status"), chartOf("categories"), chartOf("trend")];
      stacked(charts[0], l.by_region, data.regions, l);
      pie(charts[1], l.by_status, data.status);
      stacked(charts[2], l.by_category, data.categories, l);
      trend(charts[3], l.trend, data.trend, l);
      window.addEventListener("resize", function () {
        charts.forEach(function (c) { if (c) { c.resize(); } });
      });
    })
    .catch(function () {
      root.classList.add("d-none");  // the tables below carry the same numbers
    });
})();
