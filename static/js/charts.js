// What every chart of the cabinet shares (load after vendor/chart.umd.min.js):
// numbers on axes and in tooltips are written in the page's language, not the
// browser's («25 000» in the Russian cabinet, not «25,000»).
(function () {
  if (!window.Chart) return;
  Chart.defaults.locale = document.documentElement.lang || "ru";
})();
