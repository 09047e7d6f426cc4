/// The page of `promptcheck view` (README "The local loop"): HTML, CSS and JavaScript of its own,
/// no CDN, working offline. Every text from a report goes in through `textContent`, never as
/// markup; writes carry the session's token.
package enum ViewPage {
  package static func html(token: String) -> String {
    """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="pc-token" content="\(token)">
    <title>promptcheck view</title>
    <style>
    body{font:14px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
    header{padding:8px 14px;background:#1f2933;color:#fff;display:flex;gap:14px;align-items:center;flex-wrap:wrap}
    header h1{font-size:16px;margin:0}
    header select,header input{font:inherit;padding:2px 4px}
    #counts span{margin-right:10px}
    main{display:flex;gap:0;height:calc(100vh - 48px)}
    #left{flex:1 1 55%;overflow:auto;border-right:1px solid #ddd}
    #detail{flex:1 1 45%;overflow:auto;padding:10px 14px}
    table{border-collapse:collapse;width:100%}
    th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
    th{position:sticky;top:0;background:#f0f0f0}
    td.cell{cursor:pointer;white-space:nowrap}
    td.cell:hover{background:#eef}
    .passed{color:#1a7f37}.failed{color:#cf222e}.errored{color:#9a6700}.skipped{color:#777}
    .badge{font-size:11px;padding:0 4px;border-radius:3px;background:#ddf;margin-left:4px}
    .sel{outline:2px solid #58a}
    pre{background:#fff;border:1px solid #ddd;padding:6px;white-space:pre-wrap;word-break:break-word}
    .add{color:#1a7f37}.del{color:#cf222e}.hunk{color:#0550ae}
    #pager{padding:6px}
    #flash{margin-left:auto;font-size:13px}
    button{font:inherit;cursor:pointer}
    .turn{border-left:3px solid #ccd;padding-left:8px;margin:6px 0}
    </style></head>
    <body>
    <header><h1>promptcheck view</h1>
    <span id="counts"></span>
    <select id="status-filter"><option value="">all</option><option value="failed">failed</option><option value="changed">changed</option><option value="pending">pending golden</option></select>
    <select id="suite-filter"><option value="">every suite</option></select>
    <select id="target-filter"><option value="">every target</option></select>
    <select id="tag-filter"><option value="">every tag</option></select>
    <input id="search" placeholder="case id contains…">
    <span id="flash"></span></header>
    <main><div id="left"><table id="grid"></table><div id="pager"><button id="pager-prev">‹ prev</button> <span id="range"></span> <button id="pager-next">next ›</button></div></div>
    <div id="detail"><p>Choose a case.</p></div></main>
    <script>
    const token = document.querySelector('meta[name=pc-token]').content;
    const st = {offset: 0, limit: 100, status: '', suite: '', target: '', tag: '', q: '', selected: null, total: 0};
    const $ = (id) => document.getElementById(id);
    function el(tag, attrs, ...kids) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
      }
      for (const k of kids) if (k !== null && k !== undefined) e.append(k.nodeType ? k : String(k));
      return e;
    }
    function flash(text) { $('flash').textContent = text; }
    async function get(path) {
      const r = await fetch(path);
      const d = await r.json();
      if (!r.ok) throw new Error(d.error || r.statusText);
      return d;
    }
    function fill(select, values, all) {
      const keep = select.value;
      select.replaceChildren(el('option', {value: ''}, all), ...values.map(v => el('option', {value: v}, v)));
      select.value = values.includes(keep) ? keep : '';
    }
    async function loadSummary() {
      try {
        const d = await get('/api/summary');
        const s = d.summary || {};
        $('counts').replaceChildren(el('span', {class: 'passed'}, '✓ ' + (s.passed || 0)), el('span', {class: 'failed'}, '✗ ' + (s.failed || 0)),
          el('span', {class: 'errored'}, '! ' + (s.errored || 0)), el('span', {}, d.total + ' cases'));
        fill($('suite-filter'), d.suites, 'every suite');
        fill($('target-filter'), d.targets, 'every target');
        fill($('tag-filter'), d.tags, 'every tag');
      } catch (e) { flash(e.message); }
    }
    function diffPre(text) {
      const pre = el('pre', {class: 'diff'});
      for (const line of text.split('\\n')) {
        const cls = line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
        pre.append(el('span', {class: cls}, line + '\\n'));
      }
      return pre;
    }
    async function loadRows() {
      const p = new URLSearchParams({offset: st.offset, limit: st.limit, status: st.status, suite: st.suite, target: st.target, tag: st.tag, q: st.q});
      let d;
      try { d = await get('/api/cases?' + p); } catch (e) { flash(e.message); return; }
      st.total = d.total;
      const targets = [...new Set(d.rows.flatMap(r => r.cells.map(c => c.target || '')))];
      const head = el('tr', {}, el('th', {}, 'case'), ...targets.map(t => el('th', {}, t || 'result')));
      const rows = d.rows.map(r => el('tr', {}, el('td', {}, r.key), ...targets.map(t => {
        const c = r.cells.find(c => (c.target || '') === t);
        if (!c) return el('td', {}, '');
        const td = el('td', {class: 'cell ' + c.status + (c.id === st.selected ? ' sel' : ''), 'data-id': c.id, title: c.message, onclick: () => select(c.id)},
          c.status, c.changed ? el('span', {class: 'badge'}, 'changed') : null, c.pending ? el('span', {class: 'badge'}, 'pending') : null,
          el('small', {}, ' ' + (c.duration_ms ?? '') + ' ms'));
        return td;
      })));
      $('grid').replaceChildren(head, ...rows);
      $('range').textContent = d.total === 0 ? 'no case matches' : (st.offset + 1) + '–' + Math.min(st.offset + st.limit, d.total) + ' of ' + d.total;
    }
    async function post(path, body) {
      const r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-PromptCheck-Token': token}, body: JSON.stringify(body)});
      const d = await r.json();
      flash(r.ok ? d.message : 'refused: ' + d.error);
      if (st.selected) select(st.selected);
      loadRows();
    }
    function labelButtons(id, n) {
      const note = el('input', {class: 'note', placeholder: 'note'});
      const send = (label) => post('/api/label', n === null ? {id, label, note: note.value} : {id, assert: n, label, note: note.value});
      const suffix = n === null ? '' : '-' + n;
      return el('span', {}, el('button', {id: 'label-pass' + suffix, onclick: () => send('pass')}, 'label pass'), ' ',
        el('button', {id: 'label-fail' + suffix, onclick: () => send('fail')}, 'label fail'), ' ', note);
    }
    async function select(id) {
      st.selected = id;
      let d;
      try { d = await get('/api/case?id=' + encodeURIComponent(id)); } catch (e) { flash(e.message); return; }
      const c = d.case;
      const parts = [el('h2', {}, c.id), el('p', {class: c.status}, c.status + (c.error ? ': ' + c.error : '')), el('p', {}, 'case: ', labelButtons(c.id, null))];
      for (const l of d.labels || []) parts.push(el('p', {class: 'label'}, 'labelled ' + (l.assert === null ? 'case' : 'assert[' + l.assert + ']') + ' ' + l.label + (l.by ? ' by ' + l.by : '') + (l.stale ? ' (stale: the answer changed)' : '') + (l.note ? ' — ' + l.note : '')));
      if (c.golden && c.golden.pending !== undefined) parts.push(el('p', {}, el('button', {id: 'accept', onclick: () => post('/api/accept', {id: c.id})}, 'accept the pending golden')));
      if (c.golden && c.golden.diff) parts.push(el('h3', {}, 'against the golden'), diffPre(c.golden.diff));
      if (d.base_diff) parts.push(el('h3', {}, 'against the base report'), diffPre(d.base_diff));
      if (c.turns && c.turns.length) {
        parts.push(el('h3', {}, 'transcript'));
        for (const t of c.turns) parts.push(el('div', {class: 'turn'}, el('b', {}, 'turn ' + t.turn + (t.passed === false ? ' ✗' : '')), el('pre', {}, 'user: ' + (t.user ?? '') + '\\n\\nassistant: ' + (t.reply ?? ''))));
      } else {
        parts.push(el('h3', {}, 'answer'), el('pre', {id: 'output'}, c.output ?? '(none)'));
      }
      if (c.steps && c.steps.length) {
        parts.push(el('h3', {}, 'trajectory'));
        parts.push(el('ol', {}, ...c.steps.map(s => el('li', {}, (s.kind || '') + ' ' + (s.name || s.tool || '') + ' ' + JSON.stringify(s.arguments ?? s.result ?? s.content ?? '').slice(0, 200)))));
      }
      const rows = (c.assertions || []).map(a => {
        const m = /assert\\[(\\d+)\\]/.exec(a.message || '');
        const judged = ['llm-rubric', 'similar', 'exec'].includes(a.kind) && m;
        return el('tr', {}, el('td', {class: a.passed ? 'passed' : 'failed'}, a.passed ? '✓' : '✗'), el('td', {}, a.kind), el('td', {}, a.score ?? ''),
          el('td', {}, a.message, a.reason ? el('div', {}, el('i', {}, 'reason: ' + a.reason)) : null), el('td', {}, judged ? labelButtons(c.id, Number(m[1])) : ''));
      });
      parts.push(el('h3', {}, 'assertions'), el('table', {id: 'assertions'}, el('tr', {}, el('th', {}, ''), el('th', {}, 'kind'), el('th', {}, 'score'), el('th', {}, 'message'), el('th', {}, 'label')), ...rows));
      $('detail').replaceChildren(...parts);
      for (const td of document.querySelectorAll('td.cell')) td.classList.toggle('sel', td.dataset.id === id);
    }
    for (const [id, key] of [['status-filter', 'status'], ['suite-filter', 'suite'], ['target-filter', 'target'], ['tag-filter', 'tag']]) {
      $(id).addEventListener('change', (e) => { st[key] = e.target.value; st.offset = 0; loadRows(); });
    }
    $('search').addEventListener('input', (e) => { st.q = e.target.value; st.offset = 0; loadRows(); });
    $('pager-next').addEventListener('click', () => { if (st.offset + st.limit < st.total) { st.offset += st.limit; loadRows(); } });
    $('pager-prev').addEventListener('click', () => { st.offset = Math.max(0, st.offset - st.limit); loadRows(); });
    const events = new EventSource('/events');
    events.addEventListener('report', () => { flash('report updated'); loadSummary(); loadRows(); if (st.selected) select(st.selected); });
    loadSummary(); loadRows();
    </script></body></html>
    """
  }
}
