// 驾驶舱: draws the dashboard's charts with the vendored ECharts from the figures embedded in
// the page (#dashboard-data, the same JointReport the XLSX and print views are made of).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('dashboard-data').textContent);
  var palette = ['#1f4e79', '#c0504d', '#9bbb59', '#8064a2', '#f79646', '#4bacc6', '#7f7f7f', '#2c8c5a'];
  var yuan = function (fen) { return Math.round(fen) / 100; };
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === 'undefined') { return; }
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    option.color = palette;
    option.animation = false;
    option.title = { text: el.dataset.title, left: 'center', textStyle: { fontSize: 14 } };
    option.tooltip = option.tooltip || { trigger: 'axis' };
    option.grid = { left: 60, right: 20, top: 40, bottom: 90 };
    option.legend = { bottom: 0, type: 'scroll' };
    chart.setOption(option);
    chart.on('finished', function () { el.dataset.drawn = '1'; });
    window.addEventListener('resize', function () { chart.resize(); });
    el.dataset.drawn = '1';
  }
  var units = data.units.map(function (u) { return u.name; });
  draw('chart-units', {
    xAxis: { type: 'category', data: units, axisLabel: { rotate: units.length > 6 ? 40 : 0, interval: 0 } },
    yAxis: { type: 'value', name: '户' },
    // Categories nobody holds here are left out, so the bars that remain can be read.
    series: data.category_labels.map(function (label, i) {
      return { name: label, type: 'bar', data: data.units.map(function (u) { return u.by_category[i].households; }) };
    }).filter(function (series) { return series.data.some(function (n) { return n > 0; }); })
  });
  var months = data.months.map(function (m) { return m.label; });
  draw('chart-trend', {
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', name: '户' },
    series: [
      { name: '纳入', type: 'line', data: data.months.map(function (m) { return m.entries_total; }) },
      { name: '退出', type: 'line', data: data.months.map(function (m) { return m.exits_total; }) }
    ]
  });
  var amounts = [{ name: '应发救助金', type: 'bar', data: data.months.map(function (m) { return yuan(m.benefit_total_fen); }) }];
  if (data.payments_connected) {
    amounts.push({ name: '转介落实金额', type: 'line', data: data.months.map(function (m) { return yuan(m.payment_fen); }) });
  }
  draw('chart-amounts', { xAxis: { type: 'category', data: months }, yAxis: { type: 'value', name: '元' }, series: amounts });
  draw('chart-steps', {
    xAxis: { type: 'category', data: data.steps.map(function (s) { return s.step; }) },
    yAxis: { type: 'value', name: '件', minInterval: 1 },
    series: [
      { name: '案件', type: 'bar', data: data.steps.map(function (s) { return s.cases; }) },
      { name: '逾期', type: 'bar', data: data.steps.map(function (s) { return s.overdue; }) }
    ]
  });
}());
