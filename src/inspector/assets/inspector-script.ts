/**
 * The inspector's page script, served as `/assets/inspector.js`: on a run page it listens to
 * the run's server-sent events and swaps in the body the server rendered (escaped there), keeping
 * the open/closed state of the step details, and says so (as text) while the store fails; on a big run it loads the per-step parts
 * (rendered and escaped by the server) when they are opened. Plain ES2017, no framework, no CDN.
 */
export const INSPECTOR_SCRIPT = `'use strict';
(function () {
  var body = document.body;
  function loadDetail(details) {
    var url = details.getAttribute('data-detail');
    if (!url || details.getAttribute('data-loaded')) return;
    details.setAttribute('data-loaded', 'loading');
    var target = details.querySelector('.lazy-body');
    fetch(url, { credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(new Error(String(response.status))); })
      .then(function (html) {
        // Rendered by the server with every run value escaped (renderStepDetails, renderUsageTable).
        target.innerHTML = html;
        details.setAttribute('data-loaded', 'yes');
      }, function () {
        target.textContent = 'Could not load this part of the run.';
        details.removeAttribute('data-loaded');
      });
  }
  // 'toggle' does not bubble: listen in the capture phase.
  document.addEventListener('toggle', function (event) {
    var details = event.target;
    if (details && details.classList && details.classList.contains('lazy') && details.open) loadDetail(details);
  }, true);
  /** What a details element is across page swaps: its id, or the URL of what it loads. */
  function keyOf(details) { return details.id || details.getAttribute('data-detail') || ''; }
  var eventsUrl = body.getAttribute('data-events');
  if (!eventsUrl || typeof EventSource === 'undefined') return;
  var live = document.getElementById('run-live');
  var source = new EventSource(eventsUrl);
  /** Says on the page that the live updates cannot read the run (the store failed); as text: the message quotes the store. */
  function showProblem(message) {
    var note = document.getElementById('live-problem');
    if (!note) {
      note = document.createElement('p');
      note.id = 'live-problem';
      note.className = 'notice';
      note.setAttribute('role', 'status');
      live.parentNode.insertBefore(note, live);
    }
    note.textContent = 'Live updates paused: ' + message;
  }
  source.addEventListener('problem', function (event) {
    var problem;
    try { problem = JSON.parse(event.data); } catch (error) { return; }
    showProblem(String(problem && problem.message));
  });
  source.addEventListener('update', function (event) {
    var update;
    try { update = JSON.parse(event.data); } catch (error) { return; }
    var note = document.getElementById('live-problem');
    if (note) note.parentNode.removeChild(note);
    var open = {};
    live.querySelectorAll('details[open]').forEach(function (element) { if (keyOf(element)) open[keyOf(element)] = true; });
    var scrolls = [];
    live.querySelectorAll('.scroll').forEach(function (element) { scrolls.push([element.scrollLeft, element.scrollTop]); });
    // The server rendered this HTML with every run value escaped (render-run-page.ts).
    live.innerHTML = update.html;
    live.querySelectorAll('details').forEach(function (element) {
      if (keyOf(element) && open[keyOf(element)]) { element.open = true; loadDetail(element); }
    });
    live.querySelectorAll('.scroll').forEach(function (element, index) {
      if (scrolls[index]) { element.scrollLeft = scrolls[index][0]; element.scrollTop = scrolls[index][1]; }
    });
    body.setAttribute('data-run-status', update.status);
  });
  window.addEventListener('pagehide', function () { source.close(); });
})();
`;
