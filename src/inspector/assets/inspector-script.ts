/**
 * The inspector's page script, served as `/assets/inspector.js`: on a run page it listens to
 * the run's server-sent events and swaps in the body the server rendered (escaped there), keeping
 * the open/closed state of the step details. Plain ES2017, no framework, no CDN.
 */
export const INSPECTOR_SCRIPT = `'use strict';
(function () {
  var body = document.body;
  var eventsUrl = body.getAttribute('data-events');
  if (!eventsUrl || typeof EventSource === 'undefined') return;
  var live = document.getElementById('run-live');
  var source = new EventSource(eventsUrl);
  source.addEventListener('update', function (event) {
    var update;
    try { update = JSON.parse(event.data); } catch (error) { return; }
    var open = {};
    live.querySelectorAll('details.step-detail[open]').forEach(function (element) { open[element.id] = true; });
    var scrolls = [];
    live.querySelectorAll('.scroll').forEach(function (element) { scrolls.push([element.scrollLeft, element.scrollTop]); });
    // The server rendered this HTML with every run value escaped (render-run-page.ts).
    live.innerHTML = update.html;
    live.querySelectorAll('details.step-detail').forEach(function (element) { if (open[element.id]) element.open = true; });
    live.querySelectorAll('.scroll').forEach(function (element, index) {
      if (scrolls[index]) { element.scrollLeft = scrolls[index][0]; element.scrollTop = scrolls[index][1]; }
    });
    body.setAttribute('data-run-status', update.status);
  });
  window.addEventListener('pagehide', function () { source.close(); });
})();
`;
