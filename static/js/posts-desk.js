/* The console's post count: the total against the goal, the rate, a per-minute chart per
 * platform, each source's health, the producers' adjustments (with their reasons) and the
 * recent posts a producer may put on air as the top post. It follows the `posts` topic on
 * the console's one connection; changes go to the JSON API with the producer's session.
 * Post texts were typed by someone on the internet: they are only ever set as text. */
(function () {
  'use strict';
  var ER = window.ER;
  var P = ER.program;
  var h = ER.h;
  var root = document.querySelector('.posts-desk');
  if (!root) return;

  var SVG = 'http://www.w3.org/2000/svg';
  var CHART_W = 600;
  var CHART_H = 120;
  var PLATFORM_NAMES = { bluesky: 'Bluesky', mastodon: 'Mastodon', x: 'X', manual: 'Adjustments', replay: 'Replay' };
  var zone = P.viewerZone();
  var number = new Intl.NumberFormat('en-US');
  var doc = null;

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function name(platform) { return PLATFORM_NAMES[platform] || platform; }
  function at(ms) { return P.formatTime(ms, zone, null, { seconds: true }); }
  /* "Tue 2:00 PM": the window may span days. */
  function when(ms) { return P.formatTime(ms, zone, null, { weekday: true, zoneName: true }); }

  function say(text, kind) {
    var line = field('posts-status');
    line.dataset.kind = kind || '';
    ER.setText(line, text);
  }

  var post = ER.postJson;

  function renderTotals() {
    var goal = typeof doc.goal === 'number' ? doc.goal : null;
    ER.setText(field('posts-total'), number.format(doc.total || 0) + (goal ? ' of ' + number.format(goal) : ''));
    ER.setText(field('posts-rate'), number.format(doc.rate || 0) + ' a minute');
    var parts = Object.keys(doc.by_platform || {}).map(function (p) {
      return name(p) + ' ' + number.format(doc.by_platform[p]);
    });
    ER.setText(field('posts-platforms'), parts.join(' · ') || 'nothing counted yet');
    var span = doc.window || {};
    ER.setText(field('posts-window'), doc.hashtag + ', counted from ' + when(span.start) + ' to ' + when(span.end));
    var bar = field('posts-progress');
    bar.max = goal || 1;
    bar.value = goal ? Math.min(goal, Math.max(0, doc.total || 0)) : 0;
    bar.hidden = !goal;
  }

  /* One line per platform over the last hour, on a shared scale. */
  function renderChart() {
    var chart = field('posts-chart');
    var series = (doc.chart && doc.chart.by_platform) || {};
    var platforms = Object.keys(series);
    var most = 1;
    platforms.forEach(function (p) { series[p].forEach(function (n) { most = Math.max(most, n); }); });
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    var legend = field('posts-legend');
    legend.textContent = '';
    platforms.forEach(function (p, i) {
      var counts = series[p];
      var step = counts.length > 1 ? CHART_W / (counts.length - 1) : CHART_W;
      var points = counts.map(function (n, j) {
        return (j * step).toFixed(1) + ',' + (CHART_H - (Math.max(0, n) / most) * (CHART_H - 4)).toFixed(1);
      }).join(' ');
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points);
      line.setAttribute('class', 'series series-' + (i % 6));
      chart.appendChild(line);
      legend.appendChild(h('li', { class: 'series-' + (i % 6) }, [name(p) + ': ' + number.format(counts[counts.length - 1] || 0) + ' this minute']));
    });
    ER.setText(field('posts-chart-note'), 'Posts a minute, the last hour; highest ' + number.format(most) + '.');
  }

  function renderSources() {
    var body = field('posts-sources');
    body.textContent = '';
    (doc.sources || []).forEach(function (s) {
      var lag = typeof s.lag_ms === 'number' ? (s.lag_ms / 1000).toFixed(1) + ' s' : '–';
      body.appendChild(h('tr', { dataset: { state: s.state } }, [
        h('td', { text: s.name }),
        h('td', { text: s.state }),
        h('td', { text: typeof s.last_event_ms === 'number' ? at(s.last_event_ms) : '–' }),
        h('td', { text: lag }),
        h('td', { text: number.format(s.counted || 0) }),
        h('td', { text: (s.errors || 0) + (s.skipped ? ' · ' + s.skipped + ' skipped' : '') + (s.last_error ? ': ' + s.last_error : '') })
      ]));
    });
    field('posts-no-sources').hidden = (doc.sources || []).length > 0;
  }

  function renderAdjustments() {
    var list = field('posts-adjustments');
    list.textContent = '';
    (doc.adjustments || []).forEach(function (a) {
      list.appendChild(h('li', {}, [(a.by > 0 ? '+' : '') + number.format(a.by) + ' at ' + at(a.at) + ': ' + a.reason]));
    });
  }

  function renderCandidates() {
    var top = doc.top || null;
    ER.keyedRows(field('posts-candidates'), doc.candidates || [], function (c) {
      var onAir = !!top && top.key === c.key;
      return [c.key, JSON.stringify([c.text, c.at, onAir]), function () {
        return h('li', { class: 'approved-row' }, [
          h('span', { class: 'row-line' }, [h('strong', { text: name(c.platform) }), ' ' + at(c.at) + ': ', h('span', { text: c.text })]),
          h('button', { type: 'button', class: 'btn btn-small', 'data-top': c.key, 'aria-pressed': onAir ? 'true' : 'false',
            text: onAir ? 'On air' : 'Put on air' })
        ]);
      }];
    });
    field('posts-no-candidates').hidden = (doc.candidates || []).length > 0;
    field('posts-clear-top').hidden = !top;
  }

  root.addEventListener('click', function (event) {
    var pick = event.target.closest('[data-top]');
    if (pick) {
      post('/api/posts/settings', { top: pick.dataset.top }).then(function (reply) {
        say(reply.ok ? 'Top post on air.' : 'Not changed: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
      });
    } else if (event.target.closest('[data-field="posts-clear-top"]')) {
      post('/api/posts/settings', { top: null }).then(function (reply) {
        say(reply.ok ? 'Top post off air.' : 'Not changed: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
      });
    }
  });

  field('posts-adjust').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = field('posts-adjust');
    var by = parseInt(field('posts-adjust-by').value, 10);
    var reason = field('posts-adjust-reason').value.trim();
    if (form.dataset.sending === 'true') return;   // a double click adjusts once
    if (!by || !reason) { say('An adjustment needs a number (not 0) and a reason.', 'error'); return; }
    form.dataset.sending = 'true';
    form.querySelector('button').disabled = true;
    post('/api/posts/adjust', { by: by, reason: reason }).then(function (reply) {
      form.dataset.sending = 'false';
      form.querySelector('button').disabled = false;
      if (reply.ok) { field('posts-adjust-by').value = ''; field('posts-adjust-reason').value = ''; }
      say(reply.ok ? 'Adjusted by ' + by + '.' : 'Not adjusted: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
    });
  });

  field('posts-goal-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var goal = parseInt(field('posts-goal').value, 10);
    if (!(goal > 0)) { say('A goal is a number above 0.', 'error'); return; }
    post('/api/posts/settings', { goal: goal }).then(function (reply) {
      say(reply.ok ? 'Goal: ' + number.format(goal) + '.' : 'Not changed: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
    });
  });

  ER.follow('posts', function (topic) {
    doc = topic;
    root.hidden = false;
    renderTotals();
    renderChart();
    renderSources();
    renderAdjustments();
    renderCandidates();
    var goalInput = field('posts-goal');
    if (document.activeElement !== goalInput && typeof doc.goal === 'number') goalInput.value = String(doc.goal);
  });
})();
