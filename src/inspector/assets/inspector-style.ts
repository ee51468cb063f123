/** The inspector's stylesheet, served as `/assets/inspector.css` (no CDN: it works offline). */
export const INSPECTOR_STYLE = `
:root { --fg: #1d2430; --muted: #667085; --line: #d0d5dd; --bg: #fff; --panel: #f6f7f9;
  --completed: #2e9d5b; --failed: #d0453a; --incomplete: #c98a12; --running: #2f6fdb; --pending: #98a2b3; --skipped: #b8bec9;
  --critical: #7a2bd6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { padding: 10px 20px; background: #101828; }
header.top a { color: #fff; text-decoration: none; font-weight: 600; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; }
h1 .run-id { color: var(--muted); font-weight: 400; font-size: 15px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
h3 { font-size: 13px; margin: 8px 0 4px; color: var(--muted); }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: 600; }
tfoot tr.billed td { font-weight: 400; color: var(--muted); }
td.step-id, td.run-id { word-break: break-all; max-width: 360px; }
/* Fixed layout: the browser sizes a 1,000-row table from its first row, not from every cell. */
table.usage { table-layout: fixed; width: 100%; min-width: 900px; }
table.usage th:first-child { width: 24%; } table.usage th:nth-child(2) { width: 9%; } table.usage th:nth-child(3) { width: 13%; }
.filters { display: flex; gap: 12px; align-items: center; margin-bottom: 12px; }
.pages { margin-top: 12px; display: flex; gap: 16px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; background: var(--pending); }
.badge.status-completed { background: var(--completed); } .badge.status-failed { background: var(--failed); }
.badge.status-stopped { background: var(--incomplete); } .badge.status-running { background: var(--running); }
.badge.status-aborted { background: var(--muted); }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 0 0 10px; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; word-break: break-all; }
.error { color: var(--failed); }
.notice { padding: 8px 12px; background: #fff6e0; border: 1px solid #f2d38a; border-radius: 6px; }
.actions { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin: 10px 0; }
.actions form { margin: 0; }
button { font: inherit; padding: 3px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); cursor: pointer; }
button.resume { background: var(--running); color: #fff; border-color: var(--running); }
button.cancel { background: var(--failed); color: #fff; border-color: var(--failed); }
.scroll { contain: content; overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: #fcfcfd; }
.empty, .note, .legend { color: var(--muted); }
.legend .swatch { display: inline-block; width: 12px; height: 8px; background: var(--critical); }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg.dag .node rect { fill: #fff; stroke: var(--pending); stroke-width: 1.5; }
svg.dag .node.state-completed rect { fill: #e8f6ee; stroke: var(--completed); }
svg.dag .node.state-failed rect { fill: #fdecea; stroke: var(--failed); }
svg.dag .node.state-incomplete rect { fill: #fdf3dc; stroke: var(--incomplete); }
svg.dag .node.state-running rect { fill: #e7effc; stroke: var(--running); stroke-dasharray: 4 2; }
svg.dag .node.state-skipped rect { fill: #f2f4f7; stroke: var(--skipped); }
svg.dag .node.critical rect { stroke-width: 3; }
svg.dag .node .node-state { fill: var(--muted); font-size: 10px; }
svg.dag .edge { fill: none; stroke: #98a2b3; stroke-width: 1.2; }
svg.dag .edge.critical { stroke: var(--critical); stroke-width: 2; }
svg.gantt .axis line { stroke: #eaecf0; } svg.gantt .axis text { fill: var(--muted); }
svg.gantt .bar rect { fill: var(--completed); }
svg.gantt .bar.state-failed rect { fill: var(--failed); } svg.gantt .bar.state-incomplete rect { fill: var(--incomplete); }
svg.gantt .bar.critical rect { fill: var(--critical); }
details.step-detail { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
details.step-detail > summary { cursor: pointer; }
details.step-detail .step-id { font-weight: 600; word-break: break-all; }
.json { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
.json ul { list-style: none; margin: 0; padding-left: 18px; }
.json summary { cursor: pointer; color: var(--muted); }
.json-key { color: #7a2bd6; } .json-string { color: #1a7f37; } .json-number, .json-bigint { color: #0550ae; }
.json-boolean, .json-null { color: #cf222e; } .json-date, .json-other, .json-more { color: var(--muted); }
pre { white-space: pre-wrap; word-break: break-all; }
/* Sections below the fold are laid out when scrolled to: a 1,000-step run's page renders in
   well under a second (bench/measure-inspector.ts). */
section.gantt-section, section.usage-section, section.steps-section, section.conversation { content-visibility: auto; contain-intrinsic-size: auto 800px; }
`;
