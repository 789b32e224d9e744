/* The console's check-in desk: what the public sent waits here for a producer (actions to
 * host, check-ins, photos), with what screening found; approved actions can be trusted,
 * relinked or put in the spotlight; approved check-ins can be hidden; and the on-air
 * controls of the check-in overlays (kill switch, delay). It follows the `checkins`
 * topic on the console's one connection; decisions go to the JSON API with the
 * producer's session cookie.
 *
 * Keyboard, while focus is in the queue (so the console's own shortcuts never fire by
 * accident): ↑/↓ or J/K move, X selects (a batch), A approves and R rejects the selected
 * ones (or the focused one). Everything shown was typed by someone on the internet: it
 * is only ever set as text. */
(function () {
  'use strict';
  var ER = window.ER;
  var P = ER.program;
  var h = ER.h;
  var root = document.querySelector('.desk');
  if (!root) return;

  function field(name, el) { return (el || root).querySelector('[data-field="' + name + '"]'); }

  var doc = null;
  var selected = {};        // id -> true: the batch
  var inFlight = false;     // a decision is on its way: A and R wait for its answer
  var rows = {};            // key ('action:<id>' / 'checkin:<id>') -> its <li>
  var queue = field('queue');
  var feedList = field('approved-feed');
  var actionList = field('approved-actions');
  var statusLine = field('desk-status');
  var linkBox = field('link-box');
  var killButton = field('kill');
  var delaySelect = field('delay');
  var zone = P.viewerZone();

  /* In the producer's own zone, unless another is named (an action's own). */
  function at(ms, inZone) { return P.formatTime(ms, inZone || zone, null, {}); }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function say(text, kind) {
    statusLine.dataset.kind = kind || '';
    ER.setText(statusLine, text);
  }

  var post = ER.postJson;

  function actionById(id) {
    return ER.actionsOf(doc).filter(function (action) { return action.id === id; })[0] || null;
  }

  function reasons(list) {
    if (!list || !list.length) return null;
    return h('ul', { class: 'held-for', 'aria-label': 'Held for' },
      list.map(function (reason) { return h('li', { text: reason }); }));
  }

  // --- the queue ----------------------------------------------------------------------

  function pendingItems() {
    var pending = (doc && doc.pending) || {};
    var items = [];
    (pending.actions || []).forEach(function (a) { items.push({ kind: 'action', id: a.id, item: a }); });
    (pending.checkins || []).forEach(function (c) { items.push({ kind: 'checkin', id: c.id, item: c }); });
    return items;
  }

  function actionRow(a) {
    var place = [a.venue, a.city + ', ' + a.state].filter(Boolean).join(' · ');
    var where = [a.field_office, a.detention_center].filter(Boolean).join(' · ');
    return [
      h('span', { class: 'kind', text: 'Action · ' + a.type }),
      h('strong', { class: 'row-title', text: a.title }),
      h('span', { class: 'row-line', text: place + (where ? ' — ' + where : '') }),
      h('span', { class: 'row-line muted', text: at(a.starts_at, a.timezone) + ' – ' + at(a.ends_at, a.timezone) + ' (' + a.timezone + ')' }),
      a.description ? h('span', { class: 'row-line', text: a.description }) : null,
      h('span', { class: 'row-line private', text: 'Host (private): ' + a.contact }),
      reasons(a.held_for)
    ];
  }

  function checkinRow(c) {
    var action = actionById(c.action);
    var from = action ? action.title + ' — ' + action.city + ', ' + action.state : 'an action no longer listed';
    return [
      h('span', { class: 'kind', text: 'Check-in · ' + plural(c.headcount, 'person', 'people') }),
      h('strong', { class: 'row-title', text: from }),
      c.message ? h('span', { class: 'row-line', text: c.message }) : h('span', { class: 'row-line muted', text: '(no message)' }),
      c.photo ? h('img', { class: 'thumb', src: '/api/photos/' + encodeURIComponent(c.id) + '.jpg', alt: 'Photo sent with this check-in', loading: 'lazy' }) : null,
      reasons(c.held_for)
    ];
  }

  function makeRow(entry) {
    var label = entry.kind === 'action' ? 'Select action ' + entry.item.title : 'Select check-in';
    var li = h('div', { class: 'queue-row', role: 'row', 'aria-selected': 'false', tabindex: '-1', dataset: { kind: entry.kind, id: entry.id } }, [
      h('label', { class: 'pick', role: 'gridcell' }, [h('input', { type: 'checkbox', 'aria-label': label, tabindex: '-1' })]),
      h('div', { class: 'row-body', role: 'gridcell' }, entry.kind === 'action' ? actionRow(entry.item) : checkinRow(entry.item)),
      h('div', { class: 'row-buttons', role: 'gridcell' }, [
        h('button', { type: 'button', class: 'btn btn-small btn-go', 'data-decide': 'approve', tabindex: '-1' }, ['Approve ', h('kbd', { text: 'A' })]),
        h('button', { type: 'button', class: 'btn btn-small', 'data-decide': 'reject', tabindex: '-1' }, ['Reject ', h('kbd', { text: 'R' })])
      ])
    ]);
    return li;
  }

  function renderQueue() {
    var items = pendingItems();
    var focusedKey = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest('.queue-row') ? keyOf(document.activeElement.closest('.queue-row')) : null;
    var focusedIndex = focusedKey ? Array.prototype.indexOf.call(queue.children, rows[focusedKey]) : -1;
    var keep = {};
    items.forEach(function (entry) { keep[entry.kind + ':' + entry.id] = true; });
    // Decided rows leave first, so the rest are in place and are not moved (moving the
    // focused row would drop its focus).
    Object.keys(rows).forEach(function (key) {
      if (!keep[key]) { rows[key].remove(); delete rows[key]; delete selected[key]; }
    });
    items.forEach(function (entry, i) {
      var key = entry.kind + ':' + entry.id;
      if (!rows[key]) rows[key] = makeRow(entry);
      if (queue.children[i] !== rows[key]) queue.insertBefore(rows[key], queue.children[i] || null);
      markSelected(rows[key], !!selected[key]);
    });
    // A decided row left: focus goes to the one that took its place.
    if (focusedKey && queue.children.length && !queue.contains(document.activeElement)) {
      focusRow(rows[focusedKey] || queue.children[Math.min(focusedIndex, queue.children.length - 1)]);
    }
    if (!queue.querySelector('[tabindex="0"]') && queue.children.length) queue.children[0].tabIndex = 0;
    var waiting = (doc.pending && doc.pending.waiting) || { actions: 0, checkins: 0 };
    ER.setText(field('waiting'), plural(waiting.actions, 'action', 'actions') + ' and ' +
      plural(waiting.checkins, 'check-in', 'check-ins') + ' waiting' +
      (items.length < waiting.actions + waiting.checkins ? ' (the oldest ' + items.length + ' shown)' : ''));
    field('queue-empty').hidden = items.length > 0;
  }

  function keyOf(row) { return row.dataset.kind + ':' + row.dataset.id; }

  function focusRow(row) {
    if (!row) return;
    Array.prototype.forEach.call(queue.children, function (other) { other.tabIndex = other === row ? 0 : -1; });
    row.focus();
  }

  function toggle(row) {
    var key = keyOf(row);
    if (selected[key]) delete selected[key]; else selected[key] = true;
    markSelected(row, !!selected[key]);
  }

  function markSelected(row, on) {
    row.querySelector('input').checked = on;
    row.dataset.selected = on ? 'true' : 'false';
    row.setAttribute('aria-selected', on ? 'true' : 'false');
  }

  /* Decide the batch (or the one row) in one request, and sum it up in one line. */
  function decide(decision, onlyRow) {
    // Deciding is a producer's (the server refuses anyone else): the keys say so instead.
    var role = document.body.dataset.role;
    if (role && role !== 'producer') {
      var note = document.getElementById('role-note');
      say('Not done: ' + (note ? note.textContent : 'only a producer decides.'), 'error');
      return;
    }
    var keys = onlyRow ? [keyOf(onlyRow)] : Object.keys(selected);
    if (!keys.length && document.activeElement && document.activeElement.closest('.queue-row')) {
      keys = [keyOf(document.activeElement.closest('.queue-row'))];
    }
    if (!keys.length) { say('Select check-ins or actions first (X), or focus one.', 'error'); return; }
    var batch = { decision: decision, actions: [], checkins: [] };
    keys.forEach(function (key) {
      var kind = key.slice(0, key.indexOf(':'));
      batch[kind === 'action' ? 'actions' : 'checkins'].push(key.slice(key.indexOf(':') + 1));
    });
    var verb = decision === 'approve' ? 'Approved ' : 'Rejected ';
    say((decision === 'approve' ? 'Approving ' : 'Rejecting ') + keys.length + '…', 'pending');
    inFlight = true;
    post('/api/decisions', batch).then(function (reply) {
      inFlight = false;
      if (!reply.ok) { say('Not done: ' + (reply.answer.error || 'refused (' + reply.status + ')'), 'error'); return; }
      keys.forEach(function (key) { delete selected[key]; });
      var undecided = reply.answer.undecided || [];
      say(verb + reply.answer.decided.length +
        (undecided.length ? '; not done: ' + undecided.length + ' (' + undecided[0].error + ')' : ''),
        undecided.length ? 'error' : 'ok');
      reply.answer.decided.forEach(function (answer) { if (answer.checkin_url) showLink(answer); });
    });
  }

  /* A check-in link is shown once: the server keeps only its hash. */
  function showLink(action) {
    var input = h('input', { type: 'text', readonly: true, class: 'link-url', value: action.checkin_url, 'aria-label': 'Check-in link for ' + action.title });
    var copy = h('button', { type: 'button', class: 'btn btn-small', text: 'Copy' });
    copy.addEventListener('click', function () {
      ER.copyText(input.value).then(function (ok) { ER.setText(copy, ok ? 'Copied' : 'Copy failed'); });
    });
    var close = h('button', { type: 'button', class: 'btn btn-small', text: 'Done' });
    var box = h('div', { class: 'link-item', role: 'group', 'aria-label': 'Check-in link' }, [
      h('p', {}, [h('strong', { text: action.title }), ': the host\'s check-in link. It is shown only this once; send it to the host privately.']),
      h('div', { class: 'url-row' }, [input, copy, close])
    ]);
    close.addEventListener('click', function () { box.remove(); linkBox.hidden = !linkBox.children.length; });
    linkBox.appendChild(box);
    linkBox.hidden = false;
  }

  queue.addEventListener('click', function (event) {
    var row = event.target.closest('.queue-row');
    if (!row) return;
    var button = event.target.closest('[data-decide]');
    if (button) { decide(button.dataset.decide, row); return; }
    if (event.target.closest('.pick')) {
      event.preventDefault();
      toggle(row);
    }
    focusRow(row);
  });

  queue.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var row = event.target.closest('.queue-row');
    if (!row) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    // A held key moves, but never decides or selects again: each decision is one press
    // of a row someone has read.
    var deciding = key === 'a' || key === 'r' || key === 'x' || key === ' ';
    if (deciding && event.repeat) { event.preventDefault(); return; }
    if (key === 'ArrowDown' || key === 'j') focusRow(row.nextElementSibling);
    else if (key === 'ArrowUp' || key === 'k') focusRow(row.previousElementSibling);
    else if (key === 'x' || key === ' ') toggle(row);
    else if ((key === 'a' || key === 'r') && inFlight) say('Still sending the last decision…', 'pending');
    else if (key === 'a') decide('approve');
    else if (key === 'r') decide('reject');
    else return;
    event.preventDefault();
  });

  // --- approved: hide, trust, relink, spotlight ----------------------------------------

  function renderApproved() {
    var feed = doc.feed || [];
    ER.keyedRows(feedList, feed, function (c) {
      var state = airState(c.id);
      return [c.id, JSON.stringify([c.headcount, c.message, c.city, c.state, state]), function () {
        return h('li', { class: 'approved-row' }, [
          h('span', { class: 'row-line' }, [
            h('strong', { text: c.city + ', ' + c.state }), ' — ' + plural(c.headcount, 'person', 'people') + (c.message ? ': ' : ''),
            c.message ? h('span', { text: c.message }) : null
          ]),
          h('span', { class: 'muted', text: at(c.at) + state }),
          h('button', { type: 'button', class: 'btn btn-small', 'data-hide': c.id, text: 'Hide' })
        ]);
      }];
    });
    field('feed-empty').hidden = feed.length > 0;
    var trusted = {};
    (doc.trusted || []).forEach(function (id) { trusted[id] = true; });
    var spot = (doc.settings || {}).spotlight || null;
    var actions = ER.actionsOf(doc);
    ER.keyedRows(actionList, actions, function (a) {
      var line = ' — ' + a.city + ', ' + a.state + (a.live ? ' · live, ' + plural(a.people, 'person', 'people') : '') +
        (trusted[a.id] ? ' · trusted host' : '');
      var inSpotlight = spot === a.id;
      return [a.id, JSON.stringify([a.title, line, inSpotlight]), function () {
        return h('li', { class: 'approved-row' }, [
          h('span', { class: 'row-line' }, [h('strong', { text: a.title }), line]),
          h('span', { class: 'row-buttons' }, [
            h('button', { type: 'button', class: 'btn btn-small', 'data-spotlight': a.id, 'aria-pressed': inSpotlight ? 'true' : 'false',
              text: inSpotlight ? 'In the spotlight' : 'Spotlight' }),
            trusted[a.id] ? null : h('button', { type: 'button', class: 'btn btn-small', 'data-action-decide': 'trust', 'data-id': a.id, text: 'Trust host' }),
            h('button', { type: 'button', class: 'btn btn-small', 'data-action-decide': 'relink', 'data-id': a.id, text: 'New link' })
          ])
        ]);
      }];
    });
    field('actions-empty').hidden = actions.length > 0;
  }

  function airState(id) {
    if ((doc.settings || {}).killed) return ' · off air (kill switch)';
    return airIds()[id] ? ' · on air' : ' · on air after the delay';
  }

  function airIds() {
    var ids = {};
    ((doc.air && doc.air.feed) || []).forEach(function (id) { ids[id] = true; });
    return ids;
  }

  root.addEventListener('click', function (event) {
    var hide = event.target.closest('[data-hide]');
    var spotlight = event.target.closest('[data-spotlight]');
    var decision = event.target.closest('[data-action-decide]');
    if (hide) {
      post('/api/checkins/' + encodeURIComponent(hide.dataset.hide) + '/hide').then(function (reply) {
        say(reply.ok ? 'Hidden: it is off the feed and off air.' : 'Not hidden: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
      });
    } else if (spotlight) {
      var on = spotlight.getAttribute('aria-pressed') !== 'true';
      setAir({ spotlight: on ? spotlight.dataset.spotlight : null }, on ? 'Spotlight on air' : 'Spotlight cleared');
    } else if (decision) {
      var verb = decision.dataset.actionDecide;
      if (verb === 'relink' && !window.confirm('Make a new check-in link? The old one stops working at once.')) return;
      post('/api/actions/' + encodeURIComponent(decision.dataset.id) + '/' + verb).then(function (reply) {
        if (reply.ok && reply.answer.checkin_url) showLink(reply.answer);
        say(reply.ok ? (verb === 'trust' ? 'Trusted: this host\'s text goes on air without waiting, unless screening holds it.' : 'New link made.')
          : 'Not done: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
      });
    }
  });

  // --- on air ---------------------------------------------------------------------------

  function setAir(changes, done) {
    post('/api/checkins/air', changes).then(function (reply) {
      say(reply.ok ? done : 'Not changed: ' + (reply.answer.error || reply.status), reply.ok ? 'ok' : 'error');
    });
  }

  killButton.addEventListener('click', function () {
    var killed = killButton.getAttribute('aria-pressed') === 'true';
    setAir({ killed: !killed }, killed ? 'Check-in overlays are back on air.' : 'Check-in overlays are off air.');
  });
  delaySelect.addEventListener('change', function () {
    setAir({ delay_s: parseInt(delaySelect.value, 10) || 0 }, 'On-air delay: ' + delaySelect.value + ' s.');
  });

  function renderAir() {
    var settings = doc.settings || {};
    killButton.setAttribute('aria-pressed', settings.killed ? 'true' : 'false');
    ER.setText(killButton, settings.killed ? 'Check-ins are OFF air: put them back' : 'Take check-ins off air');
    root.dataset.killed = settings.killed ? 'true' : 'false';
    if (document.activeElement !== delaySelect) delaySelect.value = String(settings.delay_s || 0);
    var spot = settings.spotlight ? actionById(settings.spotlight) : null;
    ER.setText(field('spotlight-now'), spot ? spot.title + ' — ' + spot.city + ', ' + spot.state +
      (settings.killed ? ' (held off air by the kill switch)' : '') : 'none');
  }

  ER.follow('checkins', function (topic) {
    doc = topic;
    renderAir();
    renderQueue();
    renderApproved();
  });
})();
