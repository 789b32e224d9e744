/* Participant page, local actions: "Find and join an action" (the approved actions of the
 * `checkins` topic on a map of the US and in a list, filtered by state and searched by
 * city, each shown in the viewer's time zone first and in the action's own second), the
 * live check-ins feed with its totals, and "Host an action" (a form sent to POST /api/actions). Everything in here
 * was typed by someone on the internet: it is only ever set as text (ER.h, textContent).
 * Loaded before participant.js, whose connection it has follow the `checkins` topic. */
(function () {
  'use strict';
  var ER = window.ER;
  var P = ER.program;
  var ACTIONS_STEP = 20;          // actions listed at first, and added by "Show more"
  var FEED_SHOWN = 8;             // check-ins listed until "Show all"
  var ZONE_KEY = 'eventrunner.zone';   // the zone picked in participant.js's schedule
  var MAP_SIZE = [975, 610];      // static/maps/us-states.svg's viewBox, the space of `map`
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var PULSE_MS = 5000;            // a pin's pulse for a new check-in (three rings in CSS)
  var PICKED_MS = 2500;           // a card stays highlighted after a tap on its pin

  function $(selector, root) { return (root || document).querySelector(selector); }
  function field(name, root) { return $('[data-field="' + name + '"]', root); }

  var section = $('#actions');
  var form = $('#host-form');
  if (!section || !form) return;

  var locale = document.documentElement.lang || 'en';
  var number = new Intl.NumberFormat(locale);
  var doc = null;                 // the checkins topic's document, once it has come
  var calm = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : { matches: false };

  // --- places: the host form's state list (the server's, rendered in the page) -----------

  var STATES = {};                // "TX" -> {name: "Texas", zone: "America/Chicago"}
  Array.prototype.forEach.call($('#host-state').options, function (option) {
    if (option.value) STATES[option.value] = { name: option.textContent, zone: option.dataset.zone };
  });

  function stateName(code) {
    return STATES[code] ? STATES[code].name : String(code || '');
  }

  // --- time ------------------------------------------------------------------------------

  function now() {
    return ER.client && typeof ER.client.now === 'function' ? ER.client.now() : Date.now();
  }

  /* The viewer's zone: the one picked on this page (participant.js), else this device's. */
  function viewerZone() {
    var picker = document.getElementById('viewer-zone');
    if (picker && picker.value && P.isValidZone(picker.value)) return picker.value;
    var stored = ER.storage.get(ZONE_KEY);
    return stored && P.isValidZone(stored) ? stored : P.viewerZone();
  }

  var formatters = {};
  function formatter(zone, withDay) {
    var key = zone + '|' + withDay;
    if (!formatters[key]) {
      var options = { timeZone: zone, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
      if (withDay) { options.weekday = 'short'; options.month = 'short'; options.day = 'numeric'; }
      formatters[key] = new Intl.DateTimeFormat(locale, options);
    }
    return formatters[key];
  }

  /* "Thu, Mar 3, 10:00 AM – 12:00 PM CST" in `zone`, always named explicitly: never the
   * zone of the server, nor the browser's default. */
  function when(start, end, zone) {
    var f = formatter(zone, true);
    if (typeof f.formatRange === 'function') {
      try { return f.formatRange(new Date(start), new Date(end)); } catch (e) { /* below */ }
    }
    var sameDay = P.dayKey(start, zone) === P.dayKey(end, zone);
    return f.format(new Date(start)) + ' – ' + formatter(zone, !sameDay).format(new Date(end));
  }

  // --- find and join an action --------------------------------------------------------------

  var stateFilter = $('#actions-state');
  var citySearch = $('#actions-city');
  var list = field('actions-list', section);
  var countLine = field('actions-count', section);
  var moreActions = field('actions-more', section);
  var actionsLimit = ACTIONS_STEP;

  function fold(text) {
    return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
  }

  function actions() {
    return ER.actionsOf(doc);
  }

  /* The newest headcount each action checked in with. */
  function headcounts() {
    var latest = {};
    (doc && Array.isArray(doc.feed) ? doc.feed : []).forEach(function (item) {
      if (!(item.action in latest)) latest[item.action] = item.headcount;
    });
    return latest;
  }

  /* The state select lists the states that have actions, with how many. */
  function renderStateOptions(all) {
    var counts = {};
    all.forEach(function (a) { counts[a.state] = (counts[a.state] || 0) + 1; });
    var chosen = stateFilter.value;
    if (chosen && !(chosen in counts)) counts[chosen] = 0;   // keep the viewer's choice
    var codes = Object.keys(counts).sort(function (a, b) { return stateName(a).localeCompare(stateName(b)); });
    var key = codes.map(function (c) { return c + counts[c]; }).join(',') + '|' + all.length;
    if (stateFilter.dataset.key === key) return;
    stateFilter.dataset.key = key;
    stateFilter.textContent = '';
    stateFilter.appendChild(ER.h('option', { value: '', text: ER.t('All states ({n})', { n: number.format(all.length) }) }));
    codes.forEach(function (code) {
      stateFilter.appendChild(ER.h('option', { value: code, text: stateName(code) + ' (' + counts[code] + ')' }));
    });
    stateFilter.value = chosen;
  }

  function statusOf(action, t) {
    if (t >= action.ends_at) return 'ended';
    return t >= action.starts_at ? 'live' : 'upcoming';
  }

  /* Checked in and not ended (the server says so): it has people there now. */
  function isLive(action) {
    return action.live === true;
  }

  function liveText(action) {
    return typeof action.people === 'number' ? ER.t('Live now') + ' · ' + people(action.people) : ER.t('Live now');
  }

  function actionCard(action, t, zone, headcount) {
    var status = statusOf(action, t);
    var live = isLive(action);
    var localZone = P.isValidZone(action.timezone) ? action.timezone
      : STATES[action.state] ? STATES[action.state].zone : null;
    var yours = when(action.starts_at, action.ends_at, zone);
    var theirs = localZone ? when(action.starts_at, action.ends_at, localZone) : '';
    var same = !theirs || theirs === yours;
    var meta = [
      ER.h('span', { class: 'badge', text: ER.actionType(action.type) }),
      live ? ER.h('span', { class: 'action-status action-live', dataset: { field: 'live' }, text: liveText(action) }) : null,
      !live && status === 'live' ? ER.h('span', { class: 'action-status', text: ER.t('Happening now') }) : null,
      !live && status === 'ended' ? ER.h('span', { class: 'action-status', text: ER.t('Ended') }) : null
    ];
    var where = [action.venue, [action.city, action.state].filter(Boolean).join(', ')].filter(Boolean).join(' · ');
    var data = { action: String(action.id), status: status };
    if (live) data.live = 'true';
    return ER.h('li', { class: 'action-card', dataset: data }, [
      ER.h('p', { class: 'action-meta' }, meta),
      ER.h('h3', { class: 'action-title', dataset: { field: 'title' }, text: action.title }),
      ER.h('p', { class: 'action-when' }, [
        ER.h('span', { class: 'when-yours', dataset: { field: 'when-yours' }, text: yours }),
        ER.h('span', { class: 'zone-tag', text: ' ' + (same ? ER.t('(your time and local time)') : ER.t('(your time)')) }),
        same ? null : ER.h('span', { class: 'when-local', dataset: { field: 'when-local' }, text: ER.t('{time} local time', { time: theirs }) })
      ]),
      ER.h('p', { class: 'action-where', dataset: { field: 'where' }, text: where }),
      action.detention_center
        ? ER.h('p', { class: 'action-extra', dataset: { field: 'detention-center' }, text: ER.t('Detention center: {name}', { name: action.detention_center }) })
        : null,
      action.field_office
        ? ER.h('p', { class: 'action-extra', dataset: { field: 'field-office' }, text: ER.t('ICE field office: {name}', { name: action.field_office }) })
        : null,
      action.description
        ? ER.h('p', { class: 'description', dataset: { field: 'description' }, text: action.description })
        : null,
      // After it ends: how many were there when it last checked in (while the feed has it).
      !live && typeof headcount === 'number'
        ? ER.h('p', { class: 'action-checked-in', text: ER.t('Checked in: {people}', { people: people(headcount) }) })
        : null
    ]);
  }

  /* The actions the filters let through, in the list's order: live (checked in) first,
   * then happening, upcoming by start, ended last (the latest first). */
  function shownActions(t) {
    var state = stateFilter.value;
    var city = fold(citySearch.value);
    var order = { live: 1, upcoming: 2, ended: 3 };
    function rank(a) { return isLive(a) ? 0 : order[statusOf(a, t)]; }
    return actions().filter(function (a) {
      return (!state || a.state === state) && (!city || fold(a.city).indexOf(city) !== -1);
    }).sort(function (a, b) {
      var sa = rank(a);
      var sb = rank(b);
      return sa - sb || (sa === 3 ? b.starts_at - a.starts_at : a.starts_at - b.starts_at) ||
        String(a.city).localeCompare(String(b.city));
    });
  }

  var listKey = '';
  function renderActions() {
    if (!doc) return;
    var all = actions();
    var t = now();
    renderStateOptions(all);
    renderMap(t);
    var zone = viewerZone();
    var shown = shownActions(t);
    var latest = headcounts();
    // Rebuilt only when what it shows changes (the minute matters for "Happening now").
    var key = [doc.version, stateFilter.value, fold(citySearch.value), zone, Math.floor(t / 60000), actionsLimit].join('|');
    if (key === listKey) return;
    listKey = key;
    list.textContent = '';
    shown.slice(0, actionsLimit).forEach(function (a) { list.appendChild(actionCard(a, t, zone, latest[a.id])); });
    markPicked();
    moreActions.hidden = shown.length <= actionsLimit;
    ER.setText(moreActions, ER.t('Show more actions ({n} more)', { n: number.format(shown.length - actionsLimit) }));
    var text;
    if (!all.length) text = ER.t('No actions are listed yet. Host one below!');
    else if (!shown.length) text = ER.t('No actions match. Try another state or city.');
    else if (shown.length === all.length) text = ER.t('{actions}, times in your time zone first.', { actions: actionCount(all.length) });
    else text = ER.t('{actions} of {total}.', { actions: actionCount(shown.length), total: number.format(all.length) });
    ER.setText(countLine, text);
  }

  // --- the map ------------------------------------------------------------------------------
  /* One pin per action with a point (`map`, in the 975x610 space of the outlines): live ones
   * (checked in, not ended) filled and on top, the others dim. A pin's tooltip (its <title>)
   * is "Title — City, ST", as text. To assistive technology the map is one image with a
   * summary; the list is the content, and a tap on a pin shows its card there. */

  // Its own section, right before the list's: #actions holds only what people typed.
  var mapSection = $('#actions-map');
  var mapFrame = mapSection && field('map-frame', mapSection);
  var pinLayers = mapSection && { live: field('pins-live', mapSection), other: field('pins-other', mapSection) };
  var mapTotals = mapSection && field('map-totals', mapSection);
  var legendEnded = mapSection && field('legend-ended', mapSection);
  var pins = Object.create(null);  // action id -> its pin, a <g>
  var pulseTimers = Object.create(null);

  function svg(tag, attrs) {
    var el = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { el.setAttribute(key, String(attrs[key])); });
    return el;
  }

  /* [x, y] inside the map, or null (no point: Puerto Rico, an unknown state). */
  function mapPoint(action) {
    var p = action.map;
    if (!Array.isArray(p) || p.length !== 2) return null;
    var x = Number(p[0]);
    var y = Number(p[1]);
    if (!isFinite(x) || !isFinite(y) || x < 0 || y < 0 || x > MAP_SIZE[0] || y > MAP_SIZE[1]) return null;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  function pinKind(action, t) {
    if (isLive(action)) return 'live';
    return statusOf(action, t) === 'ended' ? 'ended' : 'upcoming';
  }

  function newPin(id) {
    var pin = svg('g', { class: 'pin', 'data-pin-action': id });
    pin.appendChild(svg('title'));
    pin.appendChild(svg('circle', { class: 'pin-hit', r: 14 }));     // a bigger target for a finger
    pin.appendChild(svg('circle', { class: 'pin-ring', r: 7 }));     // the pulse
    pin.appendChild(svg('circle', { class: 'pin-dot', r: 7 }));
    return pin;
  }

  function renderMap(t) {
    if (!mapSection) return;
    var all = actions();
    var keep = Object.create(null);
    var live = 0;
    var ended = 0;
    all.forEach(function (action) {
      var kind = pinKind(action, t);
      if (kind === 'live') live += 1;
      var point = mapPoint(action);
      if (!point) return;
      var id = String(action.id);
      keep[id] = true;
      var pin = pins[id] || (pins[id] = newPin(id));
      if (kind === 'ended') ended += 1;
      var place = 'translate(' + point[0] + ' ' + point[1] + ')';
      if (pin.getAttribute('transform') !== place) pin.setAttribute('transform', place);
      if (pin.getAttribute('data-pin') !== kind) pin.setAttribute('data-pin', kind);
      var layer = kind === 'live' ? pinLayers.live : pinLayers.other;
      if (pin.parentNode !== layer) layer.appendChild(pin);   // live ones drawn on top
      var where = [action.city, action.state].filter(Boolean).join(', ');
      ER.setText(pin.firstChild, String(action.title || '') + (where ? ' — ' + where : ''));
    });
    Object.keys(pins).forEach(function (id) {
      if (keep[id]) return;
      pins[id].remove();
      delete pins[id];
    });
    legendEnded.hidden = ended === 0;

    var totals = doc.totals || {};
    var listed = typeof totals.actions === 'number' ? totals.actions : all.length;
    var liveNow = typeof totals.live === 'number' ? totals.live : live;
    var present = typeof totals.people === 'number' ? totals.people : 0;
    var unmapped = all.length - Object.keys(keep).length;
    ER.setText(mapTotals, !listed ? ER.t('No actions listed yet.')
      : liveNow ? ER.t('{live} live now · {people} present · {listed} listed',
        { live: actionCount(liveNow), people: people(present), listed: actionCount(listed) })
        : ER.t('{listed} listed · none live now', { listed: actionCount(listed) }));
    // Each message its own call: Babel's extraction does not see one inside another.
    var liveSummary = liveNow ? ER.t('{n} live now', { n: number.format(liveNow) }) : ER.t('none live now');
    var summary = ER.t('Map: {actions}, {live}', { actions: actionCount(all.length), live: liveSummary });
    mapFrame.setAttribute('aria-label', summary +
      (unmapped > 0 ? ' ' + ER.t('({n} not on the map)', { n: number.format(unmapped) }) : ''));
    mapSection.hidden = false;
  }

  /* A new check-in of an action: its pin pulses (not with reduced motion). */
  function pulse(id) {
    var pin = pins[id];
    if (!pin || calm.matches) return;
    pin.classList.remove('pulse');
    void pin.getBoundingClientRect();   // restarts the animation if it is still running
    pin.classList.add('pulse');
    clearTimeout(pulseTimers[id]);
    pulseTimers[id] = setTimeout(function () { pin.classList.remove('pulse'); delete pulseTimers[id]; }, PULSE_MS);
  }

  var seenCheckins = null;        // check-in id -> true; null until the first document
  var oldestSeen = -Infinity;     // of a full feed: anything older coming back is not new

  /* The actions of check-ins that are new since the last document. */
  function freshCheckins(feed) {
    var fresh = [];
    var ids = Object.create(null);
    feed.forEach(function (item) {
      ids[item.id] = true;
      if (seenCheckins && !seenCheckins[item.id] && !(item.at < oldestSeen)) fresh.push(String(item.action));
    });
    seenCheckins = ids;
    oldestSeen = feed.length >= ER.CHECKIN_FEED_SIZE ? feed[feed.length - 1].at : -Infinity;
    return fresh;
  }

  /* A tap on a pin: its card in the list, brought into view (past the filters and "Show
   * more" if need be) and highlighted for a moment. */
  var picked = null;              // {id, until}
  function cardOf(id) {
    return Array.prototype.find.call(list.children, function (li) { return li.dataset.action === id; }) || null;
  }

  function markPicked() {
    Array.prototype.forEach.call(list.querySelectorAll('.action-card.picked'), function (li) {
      li.classList.remove('picked');
    });
    if (!picked || Date.now() > picked.until) { picked = null; return; }
    var card = cardOf(picked.id);
    if (card) card.classList.add('picked');
  }

  function showAction(id) {
    var action = actions().find(function (a) { return String(a.id) === id; });
    if (!action) return;
    var t = now();
    if (shownActions(t).indexOf(action) === -1) {
      stateFilter.value = action.state;
      citySearch.value = '';
    }
    var index = shownActions(t).indexOf(action);
    if (index >= actionsLimit) actionsLimit = Math.ceil((index + 1) / ACTIONS_STEP) * ACTIONS_STEP;
    picked = { id: id, until: Date.now() + PICKED_MS };
    renderActions();
    markPicked();
    var card = cardOf(id);
    if (card) card.scrollIntoView({ behavior: calm.matches ? 'auto' : 'smooth', block: 'center' });
    setTimeout(markPicked, PICKED_MS + 50);
  }

  if (mapFrame) {
    mapFrame.addEventListener('click', function (event) {
      var pin = event.target.closest ? event.target.closest('.pin') : null;
      if (pin) showAction(pin.getAttribute('data-pin-action'));
    });
  }

  stateFilter.addEventListener('change', renderActions);
  citySearch.addEventListener('input', renderActions);
  moreActions.addEventListener('click', function () {
    actionsLimit += ACTIONS_STEP;
    renderActions();
  });
  var zonePicker = document.getElementById('viewer-zone');
  if (zonePicker) zonePicker.addEventListener('change', function () { listKey = ''; renderActions(); });
  setInterval(renderActions, 30000);   // "Happening now" and "Ended" follow the clock

  // --- check-ins ---------------------------------------------------------------------------

  var checkinsSection = $('#checkins');
  var feedList = field('checkin-feed', checkinsSection);
  var totalsLine = field('checkin-totals', checkinsSection);
  var moreCheckins = field('checkins-more', checkinsSection);
  var feedAll = false;

  /* "40 people", "3 actions": ER.nt needs its words written out where it is called. */
  function counted(n) {
    var value = typeof n === 'number' && isFinite(n) ? n : 0;
    return { value: value, n: number.format(value) };
  }
  function people(n) {
    var c = counted(n);
    return ER.nt('{n} person', '{n} people', c.value, c);
  }
  function actionCount(n) {
    var c = counted(n);
    return ER.nt('{n} action', '{n} actions', c.value, c);
  }

  function checkinRow(item, zone) {
    var message = String(item.message || '');
    var at = typeof item.at === 'number' ? formatter(zone, false).format(new Date(item.at)) : '';
    return ER.h('li', { class: 'checkin', dataset: { checkin: String(item.id) } }, [
      ER.h('p', { class: 'checkin-line', dataset: { field: 'line' } }, [
        ER.h('span', { class: 'place', text: [item.city, item.state].filter(Boolean).join(', ') }),
        ' — ',
        ER.h('span', { class: 'count', text: people(item.headcount) }),
        message ? ': ' : null,
        message ? ER.h('span', { class: 'message', text: message }) : null
      ]),
      ER.h('p', { class: 'checkin-meta' }, [
        ER.h('span', { class: 'checkin-title', text: item.title || '' }),
        at ? ' · ' : null,
        at ? ER.h('time', { datetime: new Date(item.at).toISOString(), text: at }) : null
      ])
    ]);
  }

  var feedKey = '';
  function renderFeed() {
    if (!doc) return;
    var zone = viewerZone();
    var key = doc.version + '|' + zone + '|' + feedAll;
    if (key === feedKey) return;
    feedKey = key;
    var totals = doc.totals || {};
    var feed = Array.isArray(doc.feed) ? doc.feed : [];
    ER.setText(totalsLine, feed.length
      ? ER.t('{live} live · {people}', { live: actionCount(totals.live), people: people(totals.people) })
      : ER.t('No check-ins yet.'));
    feedList.textContent = '';
    feed.slice(0, feedAll ? feed.length : FEED_SHOWN).forEach(function (item) {
      feedList.appendChild(checkinRow(item, zone));
    });
    moreCheckins.hidden = feedAll || feed.length <= FEED_SHOWN;
    ER.setText(moreCheckins, ER.t('Show all {n} check-ins', { n: number.format(feed.length) }));
  }
  moreCheckins.addEventListener('click', function () {
    feedAll = true;
    renderFeed();
  });
  if (zonePicker) zonePicker.addEventListener('change', function () { feedKey = ''; renderFeed(); });

  function onCheckins(topic) {
    doc = topic;
    var fresh = freshCheckins(Array.isArray(doc.feed) ? doc.feed : []);
    field('actions-filters', section).hidden = false;
    renderActions();
    renderFeed();
    fresh.forEach(pulse);
  }

  // participant.js opens the page's one connection: it follows `checkins` too.
  ER.follow('checkins', onCheckins);
  ER.setText(countLine, ER.t('Loading actions…'));
  ER.setText(totalsLine, ER.t('Loading check-ins…'));

  // --- host an action ------------------------------------------------------------------------

  var stateSelect = $('#host-state');
  var zoneSelect = $('#host-zone');
  var zoneHint = field('host-zone-hint', form);
  var errorLine = field('host-error', form);
  var submit = field('host-submit', form);
  var thanks = field('host-thanks');
  var zoneChosen = false;          // the host picked a zone: a state change keeps it
  var idempotencyKey = null;       // the same for every retry of one submission

  /* "Chicago (Central Time)"; browsers without generic names say "Central Standard Time". */
  function zoneName(zone, style) {
    var name = '';
    try {
      new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style }).formatToParts(new Date())
        .forEach(function (p) { if (p.type === 'timeZoneName') name = p.value; });
    } catch (e) { name = ''; }
    return name;
  }

  function zoneLabel(zone) {
    if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
    var name = zoneName(zone, 'longGeneric') || zoneName(zone, 'long');
    return P.zoneCity(zone) + (name ? ' (' + name + ')' : '');
  }

  function setupZones() {
    var mine = P.viewerZone();
    var zones = [];
    Object.keys(STATES).forEach(function (code) {
      if (zones.indexOf(STATES[code].zone) === -1) zones.push(STATES[code].zone);
    });
    zones.sort(function (a, b) { return P.zoneCity(a).localeCompare(P.zoneCity(b)); });
    if (P.isValidZone(mine) && zones.indexOf(mine) === -1) zones.unshift(mine);
    zones.forEach(function (zone) {
      if (!P.isValidZone(zone)) return;
      zoneSelect.appendChild(ER.h('option', { value: zone, text: zoneLabel(zone) + (zone === mine ? ' · ' + ER.t('this device') : '') }));
    });
    zoneSelect.value = mine;
    if (!zoneSelect.value && zoneSelect.options.length) zoneSelect.selectedIndex = 0;
    updateZoneHint();
  }

  function updateZoneHint() {
    ER.setText(zoneHint, ER.t('Starts and ends are read as {zone} time.', { zone: P.zoneCity(zoneSelect.value) }) +
      (zoneChosen ? '' : ' ' + ER.t('Choosing the state sets it; change it if the action is elsewhere.')));
  }

  stateSelect.addEventListener('change', function () {
    var state = STATES[stateSelect.value];
    if (state && !zoneChosen && P.isValidZone(state.zone)) zoneSelect.value = state.zone;
    updateZoneHint();
  });
  zoneSelect.addEventListener('change', function () { zoneChosen = true; updateZoneHint(); });

  /* How far `zone`'s wall clock is ahead of UTC at the instant `ms`, in ms. */
  var partsFormatters = {};
  function offsetAt(ms, zone) {
    if (!partsFormatters[zone]) {
      partsFormatters[zone] = new Intl.DateTimeFormat('en-US', {
        timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit'
      });
    }
    var v = {};
    partsFormatters[zone].formatToParts(new Date(ms)).forEach(function (p) { v[p.type] = p.value; });
    var wall = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour % 24, +v.minute, +v.second);
    return wall - (ms - (ms % 1000));
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* A datetime-local value ("2022-03-03T10:00") read in `zone`, as ISO 8601 with that
   * zone's offset on that day ("2022-03-03T10:00:00-06:00"); null if it is not one. */
  function isoInZone(value, zone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || '');
    if (!m) return null;
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    var offset = offsetAt(wall - offsetAt(wall, zone), zone);
    var ms = wall - offset;
    offset = offsetAt(ms, zone);         // a time a DST change skips moves to one that exists
    var local = new Date(ms + offset);
    var minutes = Math.abs(offset) / 60000;
    return local.getUTCFullYear() + '-' + pad(local.getUTCMonth() + 1) + '-' + pad(local.getUTCDate()) +
      'T' + pad(local.getUTCHours()) + ':' + pad(local.getUTCMinutes()) + ':00' +
      (offset < 0 ? '-' : '+') + pad(Math.floor(minutes / 60)) + ':' + pad(minutes % 60);
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }

  function value(name) {
    var el = form.elements[name];
    return el ? el.value.trim() : '';
  }

  function showError(message, fieldName) {
    Array.prototype.forEach.call(form.elements, function (el) { el.removeAttribute('aria-invalid'); });
    errorLine.hidden = !message;
    ER.setText(errorLine, message || '');
    var bad = fieldName && form.elements[fieldName];
    if (bad && bad.focus) {
      bad.setAttribute('aria-invalid', 'true');
      bad.focus();
    }
  }

  function payload() {
    var zone = zoneSelect.value;
    var body = {
      title: value('title'),
      type: value('type'),
      venue: value('venue'),
      city: value('city'),
      state: value('state'),
      starts_at: isoInZone(value('starts_at'), zone),
      ends_at: isoInZone(value('ends_at'), zone),
      timezone: zone,
      description: value('description'),
      contact: value('contact')
    };
    if (value('detention_center')) body.detention_center = value('detention_center');
    if (value('field_office')) body.field_office = value('field_office');
    return body;
  }

  form.addEventListener('input', function () { idempotencyKey = null; });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (submit.disabled) return;
    var body = payload();
    if (!body.starts_at || !body.ends_at) {
      showError(ER.t('Give the day and time it starts and ends.'), body.starts_at ? 'ends_at' : 'starts_at');
      return;
    }
    if (!idempotencyKey) idempotencyKey = newKey();
    showError('');
    ER.setText(thanks, '');
    submit.disabled = true;
    ER.setText(submit, ER.t('Sending…'));
    fetch('/api/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify(body),
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 201) {
          idempotencyKey = null;
          form.reset();
          zoneChosen = false;
          zoneSelect.value = P.viewerZone();
          updateZoneHint();
          ER.setText(thanks, ER.t('Thanks — a producer will review it.'));
          thanks.focus();
          return;
        }
        var message = answer && typeof answer.error === 'string' ? answer.error : ER.t('The server answered {status}.', { status: response.status });
        if (response.status === 429) {
          var wait = response.headers.get('Retry-After');
          message = wait ? ER.t('Too many submissions from your connection; try again in {n} s.', { n: wait })
            : ER.t('Too many submissions from your connection; try again shortly.');
        }
        // "city: String should have at most 80 characters": the field it names gets focus.
        var named = /\b(title|type|venue|city|state|field_office|detention_center|starts_at|ends_at|timezone|description|contact)\b/
          .exec(message);
        showError(message, named ? named[1] : null);
      });
    }).catch(function () {
      showError(ER.t('Could not reach the server; check your connection and send it again.'));
    }).then(function () {
      submit.disabled = false;
      ER.setText(submit, ER.t('Send for review'));
    });
  });

  setupZones();
  field('host-nojs', $('#host')).hidden = true;
  form.hidden = false;
})();
