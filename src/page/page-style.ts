/** The live page's stylesheet (served as an asset: the Content-Security-Policy allows no inline style). */
export const PAGE_STYLE = `
:root { --up: #1a7f37; --down: #cf222e; --muted: #656d76; --line: #d0d7de; --card: #fff; --bg: #f6f8fa; color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: #1f2328; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: baseline; gap: 12px; padding: 14px 20px; background: #24292f; color: #fff; }
header h1 { margin: 0; font-size: 17px; font-weight: 600; }
.connection { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #57606a; }
.connection[data-state="live"] { background: var(--up); }
.connection[data-state="refused"], .connection[data-state="closed"] { background: var(--down); }
.auth { margin: 16px 20px 0; padding: 12px 16px; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.auth[hidden] { display: none; }
.auth input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; min-width: 260px; }
.auth button { font: inherit; padding: 4px 12px; border: 1px solid #1f883d; background: #1f883d; color: #fff; border-radius: 4px; cursor: pointer; }
.auth-error { flex-basis: 100%; margin: 0; color: var(--down); }
.auth-error:empty { display: none; }
.sources { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 14px; padding: 16px 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 6px; padding: 10px 14px 8px; min-width: 0; }
.card[data-state="up"] { border-left-color: var(--up); }
.card[data-state="down"] { border-left-color: var(--down); background: #fff5f5; }
.card-head { display: flex; align-items: baseline; gap: 8px; }
.card-head h2 { margin: 0; font-size: 15px; font-weight: 600; }
.card-head .source { color: var(--muted); font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.state { margin-left: auto; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.card[data-state="up"] .state { color: var(--up); }
.card[data-state="down"] .state { color: var(--down); }
.card[data-state="pending"] .state, .card[data-state="standby"] .state { color: var(--muted); }
.when { color: var(--muted); font-size: 12px; margin: 2px 0 6px; }
.error { color: var(--down); font-size: 12px; margin: 0 0 6px; overflow-wrap: anywhere; }
.error:empty { display: none; }
.numbers { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 6px; }
.numbers div { min-width: 70px; }
.numbers dt { color: var(--muted); font-size: 11px; }
.numbers dd { margin: 0; font-size: 19px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card[data-state="down"] .numbers dd { color: var(--muted); }
.card[data-state="stale"] { border-left-color: var(--muted); background: #eef0f2; color: var(--muted); }
.card[data-state="stale"] .state, .card[data-state="stale"] .numbers dd { color: var(--muted); }
.card[data-state="stale"] .chart { opacity: .45; filter: grayscale(1); }
.problems { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #9a6700; cursor: help; }
.problems[hidden] { display: none; }
.chart { height: 100px; }
.chart-title { color: var(--muted); font-size: 11px; }
footer { padding: 0 20px 16px; color: var(--muted); font-size: 12px; }
footer a { color: inherit; }
`;
