/* Producer console: show clock, rundown with Go/Take, graphics on air, commands with
 * keyboard shortcuts, overlay URLs. All commands go over the /producer socket, each
 * with the document version it was pressed against (if_version), and only while the
 * console is connected. The console alone shows over-time as a negative count.
 * Single-key shortcuts work only while the producer has armed them (off on every load);
 * Undo takes back this console's last command for 30 s; a graphic cue can be previewed,
 * drawn with the overlays' stylesheet, before it is taken to air.
 * The page says the role it signed in as (body data-role, data-role-commands): a command
 * the role may not run stays off with the reason beside it. The server refuses it anyway;
 * this only keeps a graphics operator or a viewer from pressing what cannot work. */
(function () {
  'use strict';
  var ER = window.ER;
  var P = ER.program;
  var h = ER.h;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function field(name, root) { return $('[data-field="' + name + '"]', root); }

  var localZone = P.viewerZone();
  var eventZone = 'UTC';
  var client = null;
  var ticker = null;
  var connection = 'connecting';   // 'connecting' | 'connected' | 'disconnected'
  var disconnectedAt = null;
  var refusal = null;              // why the server refused the console's handshake, if it did
  var degraded = null;             // why the server cannot take commands now (its /healthz), or null
  var HEALTH_EVERY_MS = 5000;
  var rundownKey = '';
  var timesVersion = -1;
  var armed = false;               // single-key shortcuts fire only while true
  // This console's last change the server may still undo: {what, version, at (server ms)}.
  var undoable = null;
  var UNDO_WINDOW_MS = 30000;      // eventrunner.control.commands.UNDO_WINDOW_MS
  var previewCue = null;           // the graphic cue shown in the preview panel, by id
  var roleCommands = document.body.dataset.roleCommands;   // "*" (every command) or names
  var roleNote = document.getElementById('role-note');
  var KIND_LABELS = { lower_third: 'Lower third', stat: 'Stat', quote: 'Quote', cta: 'Call to action', note: 'Note' };

  function mayRun(name) {
    // No attribute at all: a page from before roles, and the server decides anyway.
    return roleCommands === undefined || roleCommands === '*' || roleCommands.split(' ').indexOf(name) >= 0;
  }

  /* A command the role may not run: off, with the role's reason as its tooltip and description. */
  function roleLock(button) {
    if (mayRun(button.dataset.command)) return false;
    if (!button.disabled) button.disabled = true;
    button.setAttribute('aria-disabled', 'true');
    if (roleNote) {
      button.title = roleNote.textContent;
      button.setAttribute('aria-describedby', 'role-note');
    }
    return true;
  }

  // --- formatting -------------------------------------------------------------------

  function t(ms, seconds) {
    return P.formatTime(ms, eventZone, null, { seconds: seconds });
  }

  /* Event-zone text, and the producer's own zone when it differs (tooltip + second line). */
  function fillTime(cell, ms, endMs, seconds) {
    if (typeof ms !== 'number') {
      ER.setText(cell.firstChild, '');
      ER.setText(cell.lastChild, '');
      cell.removeAttribute('title');
      return;
    }
    var main = t(ms, seconds) + (typeof endMs === 'number' ? ' – ' + t(endMs, seconds) : '');
    ER.setText(cell.firstChild, main);
    var local = '';
    if (localZone !== eventZone) {
      local = P.formatTime(ms, localZone, null, { seconds: seconds }) +
        (typeof endMs === 'number' ? ' – ' + P.formatTime(endMs, localZone, null, { seconds: seconds }) : '');
      if (local === main) local = '';
    }
    // The second line is the producer's own zone (named in the note above the table).
    ER.setText(cell.lastChild, local);
    if (local) cell.setAttribute('title', 'Your time (' + P.zoneCity(localZone) + '): ' + local);
    else cell.removeAttribute('title');
  }

  function cueSummary(cue) {
    switch (cue.kind) {
      case 'lower_third': return cue.name + (cue.role ? ' — ' + cue.role : '');
      case 'stat': return cue.figure + ' ' + cue.label + ' (as of ' + P.formatDate(cue.as_of) + '; ' + cue.source + ')';
      case 'quote': return '“' + cue.text + '” — ' + cue.attribution;
      case 'cta': return cue.text + (cue.url ? ' · ' + cue.url : '');
      default: return cue.text || '';
    }
  }

  /* What the public sees in each other language the schedule translates the item into
   * (overlays with ?lang=, the participant page): "ES · Transmisión Nacional en Vivo",
   * a line each, so a producer checks both before taking a graphic. */
  function translations(item, summary) {
    return Object.keys(item.translations || {}).map(function (lang) {
      var shown = summary(Object.assign({}, item, item.translations[lang]));
      return h('div', { class: 'translation', lang: lang, text: lang.toUpperCase() + ' · ' + shown });
    });
  }

  // --- rundown ------------------------------------------------------------------------

  function timeCell() {
    return h('td', { class: 'time' }, [h('span'), h('span', { class: 'local' })]);
  }

  function buildRundown(doc) {
    var body = field('rundown');
    body.textContent = '';
    (doc.rundown || []).forEach(function (segment) {
      body.appendChild(h('tr', { class: 'seg-row', dataset: { rowSegment: segment.id } }, [
        h('td', null, [h('button', {
          type: 'button', class: 'btn btn-small', 'data-command': 'jump', 'data-segment': segment.id,
          'aria-label': 'Go to ' + segment.title, text: 'Go'
        })]),
        timeCell(),
        timeCell(),
        h('td', { class: 'item' }, [
          h('span', { class: 'seg-title', text: segment.title }), ' ',
          h('span', { class: 'badge', text: segment.kind.replace(/_/g, ' ') }), ' ',
          h('span', { class: 'row-state', dataset: { field: 'row-state' } })
        ].concat(translations(segment, function (s) { return s.title; }), [
          segment.notes ? h('div', { class: 'notes', text: 'Note: ' + segment.notes }) : null
        ])),
        h('td')
      ]));
      (segment.cues || []).forEach(function (cue) {
        var graphic = !!P.GRAPHIC_KINDS[cue.kind];
        body.appendChild(h('tr', { class: 'cue-row', dataset: { rowCue: cue.id, kind: cue.kind } }, [
          h('td', null, [h('button', {
            type: 'button', class: 'btn btn-small', 'data-command': 'jump', 'data-cue': cue.id,
            'aria-label': 'Go to cue ' + cue.id, text: 'Go'
          })]),
          timeCell(),
          timeCell(),
          h('td', { class: 'item' }, [
            h('span', { class: 'cue-kind', text: KIND_LABELS[cue.kind] || cue.kind }), ' ',
            h('span', { class: 'cue-text', title: cueSummary(cue), text: cueSummary(cue) }),
            cue.take === 'manual' ? h('span', { class: 'manual', text: ' (manual take)' }) : null
          ].concat(translations(cue, cueSummary))),
          h('td', null, graphic ? [
            h('button', { type: 'button', class: 'btn btn-small', 'data-preview': cue.id, 'aria-pressed': 'false',
              'aria-label': 'Preview ' + cue.id, text: 'Preview' }), ' ',
            h('button', { type: 'button', class: 'btn btn-small btn-take', 'data-command': 'take',
              'data-cue': cue.id, 'aria-label': 'Take ' + cue.id, text: 'Take' }),
            h('span', { class: 'on-air-badge', text: 'On air' })
          ] : [])
        ]));
      });
    });
    timesVersion = -1;
    applyConnection();   // new Go / Take buttons follow the connection too
  }

  function renderRundownTimes(doc) {
    if (timesVersion === doc.version) return;
    timesVersion = doc.version;
    $all('[data-row-segment]').forEach(function (row) {
      var timing = P.segmentTiming(doc, row.dataset.rowSegment);
      var cells = row.querySelectorAll('td.time');
      fillTime(cells[0], timing.planned_start, timing.planned_end, false);
      fillTime(cells[1], timing.actual_start, timing.actual_end, true);
    });
    $all('[data-row-cue]').forEach(function (row) {
      var timing = P.cueTiming(doc, row.dataset.rowCue);
      var cells = row.querySelectorAll('td.time');
      fillTime(cells[0], timing.planned, undefined, true);
      fillTime(cells[1], timing.actual, undefined, true);
    });
  }

  function renderRundownState(doc, d) {
    var onAir = {};
    P.SLOTS.forEach(function (slot) { if (d.graphics[slot]) onAir[d.graphics[slot].cue.id] = true; });
    var liveSegment = d.phase === 'live' && d.segment ? d.segment.id : null;
    $all('[data-row-segment]').forEach(function (row) {
      var state = P.segmentState(doc, row.dataset.rowSegment);
      var upcoming = d.phase !== 'live' && d.segment && d.segment.id === row.dataset.rowSegment;
      if (row.dataset.state !== state) row.dataset.state = state;
      row.classList.toggle('is-current', state === 'live' || !!upcoming);
      ER.setText(field('row-state', row), state === 'live' ? (d.held ? 'on air · held' : 'on air')
        : upcoming ? 'up next' : state === 'done' ? 'done' : '');
    });
    $all('[data-row-cue]').forEach(function (row) {
      var id = row.dataset.rowCue;
      var found = P.cue(doc, id);
      var inLive = found && found.segment.id === liveSegment;
      row.classList.toggle('is-live-segment', !!inLive);
      row.classList.toggle('is-current', !!(inLive && doc.program.cue === id));
      row.classList.toggle('is-done', P.cueTiming(doc, id).actual !== undefined);
      row.dataset.onAir = onAir[id] ? 'true' : 'false';
      row.dataset.previewed = id === previewCue ? 'true' : 'false';
    });
  }

  // --- clock and graphics -------------------------------------------------------------

  function renderClock(doc, d, now) {
    var panel = $('.clock-panel');
    // Before a start that has not happened on time (held, or the autopilot is late): how late.
    var lateStart = (d.phase === 'pending' || d.phase === 'gap') && typeof d.target === 'number' &&
      Math.ceil((d.target - now) / 1000) < 0;
    panel.dataset.phase = d.phase;
    panel.dataset.held = d.held ? 'true' : 'false';
    panel.dataset.overtime = d.overtime || lateStart ? 'true' : 'false';
    ER.setText(field('now-label', panel), d.label);
    ER.setText(field('now-title', panel), d.segment ? d.segment.title : '');
    ER.setText(field('now-cue', panel), d.cue ? (KIND_LABELS[d.cue.kind] || d.cue.kind) + ': ' + cueSummary(d.cue) : '');
    var held = field('held', panel);
    held.hidden = !d.held;
    ER.setText(held, d.held && typeof d.heldSince === 'number'
      ? 'Held since ' + t(d.heldSince, true) + ' (' + P.formatElapsed(now - d.heldSince) + ')' : 'Held');
    field('overtime', panel).hidden = !d.overtime;
    ER.setText(field('elapsed', panel), d.elapsed === null ? '–' : P.formatElapsed(d.elapsed));
    ER.setText(field('remaining-label', panel), d.phase === 'live' ? (d.overtime ? 'Over time' : 'Remaining')
      : d.phase === 'ended' ? 'Remaining' : lateStart ? 'Late start' : 'Starts in');
    // Negative when over time (or late to start): producers see by how much.
    ER.setText(field('remaining', panel), lateStart ? P.formatCountdown(d.target - now)
      : d.countdown === null ? '–' : P.formatCountdown(d.countdown));
    ER.setText(field('planned', panel), d.segment && d.phase !== 'ended'
      ? t(d.timing.planned_start) + ' – ' + P.formatTime(d.timing.planned_end, eventZone, null, { zoneName: true }) : '–');
    ER.setText(field('next-title', panel), d.next ? d.next.title : '—');
    ER.setText(field('next-time', panel), d.next && typeof d.nextTiming.planned_start === 'number'
      ? 'at ' + t(d.nextTiming.planned_start) : '');
    ER.setText(field('clock-now', panel), P.formatTime(now, eventZone, null, { seconds: true, zoneName: true }));

    var holdButton = $('[data-command="hold"]');
    holdButton.setAttribute('aria-pressed', d.held ? 'true' : 'false');
    ER.setText(field('hold-label', holdButton), d.held ? 'Resume' : 'Hold');
  }

  function renderOnAir(d, now) {
    $all('.slot').forEach(function (li) {
      var g = d.graphics[li.dataset.slot];
      li.dataset.onAir = g ? 'true' : 'false';
      ER.setText(field('slot-content', li), g ? cueSummary(g.cue) : '—');
      ER.setText(field('slot-until', li), g && typeof g.until === 'number'
        ? 'off in ' + P.formatCountdown(g.until - now) : '');
      $('[data-command="clear"]', li).hidden = !g;
    });
  }

  /* Draws the console at the server's now; returns the instants on show (see ER.tick):
   * the countdown, elapsed, graphics' `until`, the hold's age and the wall clock. */
  function render() {
    var doc = client && client.doc;
    if (!doc) return [0];
    var now = client.now();
    var d = P.derive(doc, now);
    renderClock(doc, d, now);
    renderRundownTimes(doc);
    renderRundownState(doc, d);
    renderOnAir(d, now);
    renderUndo(doc, now);
    renderPreview(doc, d);
    return P.flips(d).concat([0, d.heldSince, undoable && undoable.at]);
  }

  function onDoc(doc) {
    if (doc.event && doc.event.timezone) eventZone = doc.event.timezone;
    // Rebuild the table only when the schedule itself changed, not on every patch.
    var key = ER.stableKey(doc.rundown || []);
    if (key !== rundownKey) {
      rundownKey = key;
      buildRundown(doc);
      ER.setText(field('zone-note'), 'Times in ' + eventZone +
        (localZone !== eventZone ? '; the grey line under each time is yours (' + localZone + ').' : '.'));
    }
    if (ticker) ticker.render(); else render();
    asrunChanged(doc.version);
  }

  // --- as-run log ----------------------------------------------------------------------

  /* While the panel is open: the newest entries at first, then those after the last one
   * shown, each time the show's version moves past it. An entry is written just after
   * its change is published, so one not there yet is asked for again shortly. */
  var ASRUN_SHOWN = 100;
  var ASRUN_RETRY_MS = 1500;
  var ASRUN_RETRIES = 3;
  var asrun = { entries: [], last: null, wanted: 0, busy: false, again: false, retries: 0, timer: null };

  function offBy(ms, later, earlier) {
    var secs = Math.round(ms / 1000);
    if (secs === 0) return 'on time';
    return P.formatElapsed(Math.abs(secs) * 1000) + ' ' + (secs > 0 ? later : earlier);
  }

  function span(ms, endMs) {
    if (typeof ms !== 'number') return '';
    return t(ms, true) + ' – ' + (typeof endMs === 'number' ? t(endMs, true) : '…');
  }

  /* Over-runs (and late starts) above zero in amber. */
  function offCell(entry) {
    var lines = [];
    var seg = entry.segment || {};
    if (entry.ended) lines.push([entry.ended.title + ': ended ', entry.ended.over_ms, 'over', 'under']);
    if (typeof seg.over_ms === 'number') lines.push(['ended ', seg.over_ms, 'over', 'under']);
    else if (typeof seg.late_ms === 'number') lines.push(['started ', seg.late_ms, 'late', 'early']);
    return h('td', null, lines.map(function (line) {
      var over = Math.round(line[1] / 1000) > 0;
      return h('div', { class: over ? 'is-over' : null, text: line[0] + offBy(line[1], line[2], line[3]) });
    }));
  }

  function asrunRow(entry) {
    var seg = entry.segment || {};
    return h('tr', { dataset: { version: String(entry.version) } }, [
      h('td', { class: 'time', title: entry.at_iso, text: t(entry.at, true) }),
      h('td', { class: 'who', text: entry.who }),
      h('td', null, [h('span', { class: 'asrun-command', text: entry.command }), ' ', entry.what]),
      h('td', { class: 'time' }, [
        h('div', { class: 'asrun-segment', text: seg.title || '' }),
        h('div', { text: span(seg.planned_start, seg.planned_end) })
      ]),
      h('td', { class: 'time', text: span(seg.actual_start, seg.actual_end) }),
      offCell(entry)
    ]);
  }

  function renderAsrun() {
    var body = field('asrun-rows');
    body.textContent = '';
    asrun.entries.slice().reverse().forEach(function (entry) { body.appendChild(asrunRow(entry)); });
    field('asrun-empty').hidden = asrun.entries.length > 0;
  }

  function asrunChanged(version) {
    if (typeof version === 'number' && version > asrun.wanted) {
      asrun.wanted = version;
      asrun.retries = 0;
    }
    if (field('asrun').open) loadAsrun();
  }

  function loadAsrun() {
    if (asrun.busy) { asrun.again = true; return; }
    if (asrun.last !== null && asrun.last >= asrun.wanted) return;
    clearTimeout(asrun.timer);
    asrun.busy = true;
    var more = false;
    var url = '/api/asrun' + (asrun.last === null ? '' : '?since=' + asrun.last);
    fetch(url, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error(answer.error || 'the server answered ' + response.status);
          return answer;
        });
      })
      .then(function (answer) {
        more = !!answer.more;
        var fresh = (answer.entries || []).filter(function (entry) {
          return asrun.last === null || entry.version > asrun.last;
        });
        fresh.forEach(function (entry) { asrun.last = Math.max(asrun.last || 0, entry.version); });
        if (asrun.last === null) asrun.last = 0;
        asrun.entries = asrun.entries.concat(fresh).slice(-ASRUN_SHOWN);
        if (fresh.length) renderAsrun();
        ER.setText(field('asrun-status'), '');
        if (!more && asrun.last < asrun.wanted && asrun.retries < ASRUN_RETRIES) {
          asrun.retries += 1;
          asrun.timer = setTimeout(loadAsrun, ASRUN_RETRY_MS);
        }
      }, function (error) {
        ER.setText(field('asrun-status'), 'The as-run log cannot be read now: ' +
          (error && error.message ? error.message : 'the server cannot be reached') + '.');
      })
      .then(function () {
        asrun.busy = false;
        if (more || asrun.again) { asrun.again = false; loadAsrun(); }
      });
  }

  field('asrun').addEventListener('toggle', function () {
    if (!field('asrun').open) return;
    // Closed for long: the newest again, rather than every page in between.
    if (asrun.last !== null && asrun.wanted - asrun.last > ASRUN_SHOWN) { asrun.last = null; asrun.entries = []; }
    loadAsrun();
  });

  // --- undo ---------------------------------------------------------------------------

  /* "Undo next (12 s)" while the show is still at the version this console's last command
   * made, for 30 s after it was pressed (a hair less than the server's own window). */
  function renderUndo(doc, now) {
    var button = $('[data-command="undo"]');
    if (undoable && (doc.version > undoable.version || now - undoable.at >= UNDO_WINDOW_MS)) undoable = null;
    var left = undoable && doc.version === undoable.version ? UNDO_WINDOW_MS - (now - undoable.at) : 0;
    var usable = left > 0 && connection === 'connected' && !degraded;
    if (roleLock(button)) usable = false;
    else if (button.disabled === usable) button.disabled = !usable;
    ER.setText(field('undo-label', button), left > 0
      ? 'Undo ' + undoable.what + ' (' + Math.ceil(left / 1000) + ' s)' : 'Nothing to undo');
  }

  // --- preview then take ---------------------------------------------------------------

  /* The previewed cue drawn as the overlay draws it: the overlays' stylesheet and markup
   * (overlays/graphics.html) in a frame of its own, so neither page's styles touch the
   * other's. The frame has no address: this page fills it, and no script runs in it. */
  var GRAPHIC_OF_KIND = { lower_third: 'lower-third', stat: 'stat-card', quote: 'quote-card', cta: 'cta' };
  var previewShown = '';           // what the frame shows now (cue id and content)
  var previewCss = null;           // a promise: the stylesheet in the frame has loaded

  function previewDocument() {
    var frame = field('preview-frame');
    var inner = frame.contentDocument;
    if (!inner.getElementById('canvas')) {
      var link = inner.createElement('link');
      link.rel = 'stylesheet';
      link.href = frame.dataset.css;
      previewCss = new Promise(function (resolve) {
        link.addEventListener('load', resolve);
        link.addEventListener('error', resolve);   // drawn unstyled rather than never
      });
      inner.head.appendChild(link);
      inner.body.className = 'overlay is-preview';
      inner.body.appendChild(h('div', { class: 'preview-bg', 'aria-hidden': 'true' }));
      inner.body.appendChild(h('div', { class: 'canvas', id: 'canvas' }));
    }
    return inner;
  }

  function textSpan(cls, fit, text) {
    return h('span', { class: cls, 'data-fit': fit ? '' : null, dataset: { field: cls }, text: text || '' });
  }

  /* The graphic's element for a cue, with the texts the overlay's own script puts in it
   * (static/js/overlays/<name>.js). */
  function previewGraphic(cue) {
    var name = GRAPHIC_OF_KIND[cue.kind];
    var parts;
    if (cue.kind === 'lower_third') parts = [textSpan('name', true, ER.tx(cue, 'name')), textSpan('role', true, ER.tx(cue, 'role'))];
    else if (cue.kind === 'stat') {
      parts = [textSpan('figure', true, ER.tx(cue, 'figure')), textSpan('label', true, ER.tx(cue, 'label')),
        textSpan('as-of', false, cue.as_of ? ER.t('as of {date}', { date: P.formatDate(cue.as_of) }) : ''),
        textSpan('source', false, cue.source ? ER.t('Source: {source}', { source: ER.tx(cue, 'source') }) : '')];
    } else if (cue.kind === 'quote') parts = [textSpan('text', true, ER.tx(cue, 'text')), textSpan('attribution', true, ER.tx(cue, 'attribution'))];
    else {
      var url = ER.safeUrl(ER.tx(cue, 'url'));
      var shown = url && !/^mailto:/i.test(url)
        ? url.replace(/^https?:\/\//i, '').replace(/^www\./i, '').replace(/\/$/, '') : '';
      parts = [textSpan('text', true, ER.tx(cue, 'text')), textSpan('url', true, shown)];
    }
    return h('div', { class: 'graphic plate ' + name, dataset: { graphic: name, visible: 'true' } }, parts);
  }

  /* The overlay's text fitting (overlay.js fit), in short: the largest whole size down to
   * --fit-min at which the text keeps to its lines, else the floor with an ellipsis. */
  function fitPreview(el) {
    if (!el.textContent) return;
    var css = el.ownerDocument.defaultView.getComputedStyle(el);
    var max = parseFloat(css.fontSize);
    var min = Math.min(max, parseFloat(css.getPropertyValue('--fit-min')) || max);
    var lines = parseInt(css.getPropertyValue('--fit-lines'), 10);
    var height = parseFloat(css.maxHeight);
    el.style.maxHeight = 'none';
    function fits() {
      var line = parseFloat(css.lineHeight);
      var allowed = lines > 0 ? lines : isFinite(height) ? Math.max(1, Math.floor(height / line)) : 1;
      return el.scrollWidth <= el.clientWidth && el.clientHeight <= allowed * line + 1;
    }
    var size = max;
    while (size > min && !fits()) {
      size -= 1;
      el.style.fontSize = size + 'px';
    }
    if (!fits()) {
      el.dataset.fit = 'clamped';
      el.style.webkitLineClamp = String(lines > 0 ? lines : Math.max(1, Math.floor(height / parseFloat(css.lineHeight))));
    }
    el.style.maxHeight = '';
  }

  function scalePreview() {
    var stage = field('preview-stage');
    var frame = field('preview-frame');
    if (stage.clientWidth) frame.style.transform = 'scale(' + stage.clientWidth / 1920 + ')';
  }

  function showPreview(id) {
    previewCue = id;
    if (client && client.doc) { if (ticker) ticker.render(); else render(); }
    if (id) field('preview-stage').scrollIntoView({ block: 'nearest' });
  }

  function renderPreview(doc, d) {
    var panel = $('.cue-preview');
    var found = previewCue ? P.cue(doc, previewCue) : null;
    var cue = found && P.GRAPHIC_KINDS[found.cue.kind] ? found.cue : null;
    if (!cue) previewCue = null;
    $all('[data-preview]').forEach(function (button) {
      var pressed = button.dataset.preview === previewCue ? 'true' : 'false';
      if (button.getAttribute('aria-pressed') !== pressed) button.setAttribute('aria-pressed', pressed);
    });
    var slot = cue && P.GRAPHIC_KINDS[cue.kind];
    var onAir = !!(cue && d.graphics[slot] && d.graphics[slot].cue.id === cue.id);
    var state = !cue ? 'empty' : onAir ? 'on-air' : 'preview';
    if (panel.dataset.state !== state) panel.dataset.state = state;
    ER.setText(field('preview-badge'), onAir ? 'On air now' : 'Not on air');
    field('preview-empty').hidden = !!cue;
    field('preview-stage').hidden = !cue;
    field('preview-actions').hidden = !cue;
    var take = field('preview-take');
    if (cue) take.dataset.cue = cue.id; else delete take.dataset.cue;
    ER.setText(take, onAir ? 'Take again' : 'Take to air');
    var what = cue ? (KIND_LABELS[cue.kind] || cue.kind) + ' ' + cue.id : '';
    ER.setText(field('preview-caption'), !cue ? ''
      : onAir ? what + ' is on air now.' : 'Previewing ' + what + ': not on air until you take it.');
    var key = cue ? ER.stableKey(cue) : '';
    if (key === previewShown) return;
    previewShown = key;
    var inner = previewDocument();
    var canvas = inner.getElementById('canvas');
    canvas.textContent = '';
    if (!cue) return;
    scalePreview();
    var graphic = previewGraphic(cue);
    canvas.appendChild(graphic);
    previewCss.then(function () {
      if (graphic.parentNode) $all('[data-fit]', graphic).forEach(fitPreview);
    });
  }

  window.addEventListener('resize', scalePreview);

  // --- connection -----------------------------------------------------------------------

  /* A banner under the header while the server is away: commands cannot be sent. */
  function banner() {
    var el = $('.conn-banner');
    if (!el) {
      el = h('div', { class: 'conn-banner', role: 'alert', hidden: true }, [
        h('strong', { dataset: { field: 'conn-banner-title' } }), ' ',
        h('span', { dataset: { field: 'conn-banner-text' } }), ' ',
        h('a', { href: window.location.pathname, dataset: { field: 'conn-banner-signin' }, hidden: true,
          text: 'Reload to sign in again' })
      ]);
      var header = $('.console-header');
      if (header) header.after(el); else document.body.prepend(el);
    }
    return el;
  }

  /* Command buttons work only while connected; the header and the banner say why not. */
  function applyConnection() {
    var connected = connection === 'connected';
    var usable = connected && !degraded;
    document.body.dataset.console = connected && degraded ? 'degraded' : connection;
    $all('button[data-command]:not([data-command="undo"])').forEach(function (button) {
      if (roleLock(button)) return;
      if (button.disabled === usable) button.disabled = !usable;
      if (usable) button.removeAttribute('title');
      else button.title = connection === 'connecting' ? 'Connecting to the server…'
        : connected ? 'The server cannot take commands now: ' + degraded
        : 'Disconnected from the server: commands are off until it is back';
    });
    ER.setText(field('connection'), connected ? (degraded ? 'Connected — degraded' : 'Connected')
      : connection === 'connecting' ? 'Connecting…' : refusal ? 'Disconnected — refused' : 'Disconnected — retrying');
    var el = banner();
    el.hidden = connection !== 'disconnected' && !(connected && degraded);
    if (connected && degraded) {
      ER.setText(field('conn-banner-title', el), 'Degraded.');
      ER.setText(field('conn-banner-text', el), 'Commands are refused until it is back: ' +
        degraded.replace(/\.+$/, '') +
        '. Screens, overlays and phones keep what they show; it recovers by itself.');
      field('conn-banner-signin', el).hidden = true;
      return;
    }
    ER.setText(field('conn-banner-title', el), 'Disconnected from the server.');
    var since = disconnectedAt === null ? '' : ' (since ' + t(disconnectedAt, true) + ')';
    ER.setText(field('conn-banner-text', el), refusal
      ? 'Commands are off: the server refused this console' + since + ': ' + refusal +
        '. Your session may have expired or been signed out.'
      : 'Commands are off until the connection is back' + since +
        '; retrying by itself. The screen shows the last state it had.');
    field('conn-banner-signin', el).hidden = !refusal;
    if (client && client.doc) renderUndo(client.doc, client.now());
  }

  function setConnection(connected) {
    var next = connected ? 'connected' : 'disconnected';
    if (next === connection) return;
    if (!connected) disconnectedAt = client ? client.now() : Date.now();
    else refusal = null;
    connection = next;
    applyConnection();
  }

  // --- commands ---------------------------------------------------------------------

  function setStatus(text, kind) {
    var status = field('status');
    status.dataset.kind = kind || '';
    ER.setText(status, text);
  }

  function describe(payload) {
    if (payload.command === 'undo') return 'undo' + (undoable ? ' ' + undoable.what : '');
    var text = payload.command;
    if (payload.segment) text += ' ' + payload.segment;
    if (payload.cue) text += ' ' + payload.cue;
    if (payload.slot) text += ' ' + payload.slot;
    if (payload.minutes) text += ' ' + payload.minutes + ' min' + (payload.shift_rest ? ' (shift the rest)' : '');
    return text;
  }

  function send(payload) {
    var what = describe(payload);
    var sentAt = client.now();
    if (connection !== 'connected') {
      setStatus('Not sent: ' + what + ' — the console is disconnected from the server. ' +
        'Wait for "Connected", check the show, and press again.', 'error');
      return;
    }
    // The version this press was made against: the server refuses it if the show has
    // changed since (another producer, the autopilot), rather than apply it to a show
    // the producer has not seen.
    if (client.doc && typeof client.doc.version === 'number') payload.if_version = client.doc.version;
    setStatus('Sending ' + what + '…', 'pending');
    client.command(payload).then(function (reply) {
      var ok = !!(reply && reply.ok);
      var conflict = !ok && !!(reply && reply.conflict);
      var result;
      if (ok) result = 'done (version ' + reply.version + ')';
      else if (conflict) {
        result = 'not done. The show changed' +
          (typeof reply.version === 'number' ? ' (now v' + reply.version + ')' : '') + '; check and press again.';
      } else result = 'refused: ' + ((reply && reply.error) || 'unknown error');
      if (ok) {
        // What Undo would take back: this press, until the show changes again or 30 s pass;
        // nothing when the press changed nothing (the server would undo the change before it).
        var changed = typeof payload.if_version !== 'number' || reply.version > payload.if_version;
        undoable = payload.command === 'undo' || !changed ? null : { what: what, version: reply.version, at: sentAt };
        if (ticker) ticker.render(); else render();
      }
      setStatus(what + ': ' + result, ok ? 'ok' : conflict ? 'conflict' : 'error');
      ER.setText(field('last-command'), what + ' at ' + t(sentAt, true) + ' — ' +
        (ok ? 'ok' : conflict ? 'not done: the show had changed' : 'refused'));
    });
  }

  /* Build the command object a button (or shortcut) stands for. */
  function payloadFor(el) {
    var name = el.dataset.command;
    var payload = { command: name };
    if (name === 'hold' && client.doc && client.doc.program && client.doc.program.held) payload.command = 'resume';
    if (el.dataset.segment) payload.segment = el.dataset.segment;
    if (el.dataset.cue) payload.cue = el.dataset.cue;
    if (el.dataset.slot) payload.slot = el.dataset.slot;
    if (name === 'extend' || name === 'shorten') {
      payload.minutes = parseInt(el.dataset.minutes, 10) || 1;
      payload.shift_rest = !!field('shift-rest').checked;
    }
    return payload;
  }

  function run(el) {
    if (!el) return;
    if (!mayRun(el.dataset.command)) {   // a shortcut for a button the role has off
      setStatus('Not sent: ' + (roleNote ? roleNote.textContent : 'your role may not run ' + el.dataset.command), 'error');
      return;
    }
    if (el.dataset.command === 'undo' && el.disabled) {   // its shortcut: say why not
      setStatus('Nothing to undo: Undo takes back this console\'s last command for ' +
        UNDO_WINDOW_MS / 1000 + ' s, while nothing else has changed the show.', 'error');
      return;
    }
    var payload = payloadFor(el);
    if (payload.command === 'reset' &&
        !window.confirm('Reset the show to the plan? Everything done by hand today is undone.')) return;
    send(payload);
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-command]');
    if (button) run(button);
    var picked = event.target.closest('[data-preview]');
    if (picked) showPreview(picked.dataset.preview === previewCue ? null : picked.dataset.preview);
    if (event.target.closest('[data-field="preview-close"]')) showPreview(null);
    if (event.target.closest('[data-field="arm"]')) setArmed(!armed);
    // A mouse click leaves focus on the button (or checkbox), where Space would press
    // it again instead of meaning "next" (or disarm). Keyboard users (detail 0) keep their focus.
    var control = button || picked || event.target.closest('[data-field="arm"], [data-field="preview-close"]') ||
      event.target.closest('input[type="checkbox"]');
    if (control && event.detail > 0) control.blur();
  });

  /* Typing in a field must not fire shortcuts; a checkbox is not typing. */
  function isTyping(el) {
    if (el.closest('textarea, select, [contenteditable=""], [contenteditable="true"]')) return true;
    var input = el.closest('input');
    return !!input && !/^(checkbox|radio|button|submit|reset|range|color|file)$/.test(input.type);
  }

  var SHORTCUTS = {
    ' ': '[data-command="next"]', ArrowRight: '[data-command="next"]',
    ArrowLeft: '[data-command="previous"]', h: '[data-command="hold"]', s: '[data-command="start_now"]',
    '+': '[data-command="extend"][data-minutes="1"]', '=': '[data-command="extend"][data-minutes="1"]',
    '-': '[data-command="shorten"][data-minutes="1"]', _: '[data-command="shorten"][data-minutes="1"]',
    c: '[data-command="clear"]:not([data-slot])', u: '[data-command="undo"]'
  };

  function setArmed(on) {
    armed = on;
    var toggle = field('arm');
    toggle.setAttribute('aria-pressed', on ? 'true' : 'false');
    ER.setText(field('arm-state'), on ? 'On' : 'Off');
    document.body.dataset.armed = on ? 'true' : 'false';
    ER.setText(field('arm-note'), on ? 'Space is Next, and every key in the list below fires its command.'
      : 'Keys do nothing until you arm them; buttons always work.');
    setStatus(on ? 'Shortcuts armed: Space is Next.' : 'Shortcuts off: keys do nothing.', on ? 'ok' : '');
  }

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    var target = event.target;
    if (isTyping(target)) return;
    if (target.closest('.queue')) return;   // the check-in queue has keys of its own
    // Space and Enter on a focused control keep their usual meaning.
    if ((event.key === ' ' || event.key === 'Enter') && target.closest('button, a, summary, input')) return;
    var selector = SHORTCUTS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!selector) return;
    event.preventDefault();
    if (!armed) {
      setStatus('Not sent: shortcuts are off. Switch on "Shortcuts armed" to use keys, or press the button.', 'error');
      return;
    }
    run($(selector));
  });

  // --- overlay URLs -------------------------------------------------------------------

  function setupOverlays() {
    $all('.overlay-url').forEach(function (input) {
      input.value = window.location.origin + input.dataset.path;
      input.addEventListener('focus', function () { input.select(); });
    });
    $all('[data-copy-url]').forEach(function (button) {
      button.addEventListener('click', function () {
        var input = document.getElementById(button.dataset.copyUrl);
        ER.copyText(input.value).then(function (ok) {
          ER.setText(button, ok ? 'Copied' : 'Copy failed');
          setTimeout(function () { ER.setText(button, 'Copy'); }, 1500);
        });
      });
    });
  }

  setupOverlays();
  applyConnection();
  client = ER.connect('/producer', onDoc);
  // The socket says 'disconnect' at once when the server closes or dies (loopback, or a
  // proxy that closes the connection); a silent network drop takes socket.io's ping timeout.
  client.onConnection = setConnection;
  if (client.connected) setConnection(true);
  client.socket && client.socket.on('connect_error', function (err) {
    // /producer refuses a handshake without a valid session: say so instead of spinning.
    if (client.socket.active) return;
    setStatus('The server refused the console connection (' + err.message +
      '). Your session may have expired: reload the page to sign in.', 'error');
    refusal = err.message || 'no reason given';
    applyConnection();
  });
  ticker = ER.tick(render, client);
  if (client.doc) onDoc(client.doc);

  /* The socket can be up while the server cannot keep a change (its shared store, Redis,
     is down): /healthz says so, and the console says it and holds its commands. */
  function checkHealth() {
    fetch('/healthz', { cache: 'no-store' })
      .then(function (response) {
        return response.json().then(function (body) {
          var why = response.status === 503 ? (body.problem || 'the server reports a problem') : null;
          if (why !== degraded) { degraded = why; applyConnection(); }
        });
      })
      .catch(function () { /* unreachable: the socket's own state says so */ });
  }
  checkHealth();
  setInterval(checkHealth, HEALTH_EVERY_MS);
})();
