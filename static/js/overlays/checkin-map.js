/* Check-in map: the approved local actions of the `checkins` topic as pins on a US map,
 * on a plate in the upper left, clear of the clock (?align=right: upper right). Live actions (a check-in, not
 * ended) are bright pins, the others small and dim (those that have ended dimmest). When
 * a new check-in of an action reaches the air, its pin pulses and a callout names it
 * ("Houston, TX — 40 people") for a few seconds; a check-in already on air when the page
 * loads never pulses (a reload replays nothing), nor do those that were held back while
 * the kill switch was on. Above the map the totals, below it GeoNames' credit for the
 * city points (its licence asks for it wherever they are shown).
 *
 * It obeys the topic's `air`: while `air.killed` (the kill switch) the whole plate is off;
 * only check-ins listed in `air.feed` (the on-air delay applied) pulse or get a callout.
 * Hidden, too, while no approved action has a point on the map (Puerto Rico has none), and
 * while an action is in the spotlight: the spotlight card takes the map's slot.
 * With prefers-reduced-motion the pulse is a steady ring instead (overlay.css).
 * Everything in it was typed by someone on the internet: pin titles and the callout are
 * only ever set as text. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var SVG = 'http://www.w3.org/2000/svg';
  var WIDTH = 975;             // static/maps/us-states.svg's viewBox
  var HEIGHT = 610;
  var PULSE_MS = 6400;         // four rings of 1.6 s (overlay.css)
  var CALLOUT_MS = 7000;
  var CALLOUT_GAP = 18;        // px between a pin and its callout
  var RETRY_MS = 500;          // a little over the exit in overlay.css
  var CLOCK_MS = 30000;        // an action that ends with no news dims by itself
  var RADIUS = { live: 9, upcoming: 6, ended: 4 };
  var ORDER = { ended: 0, upcoming: 1, live: 2 };   // live pins are drawn on top
  var number = new Intl.NumberFormat(ER.lang);

  var root = document.querySelector('.checkin-map');
  var layer = O.field(root, 'pins');
  var frame = O.field(root, 'frame');
  var callout = O.field(root, 'callout');
  var doc = null;        // the topic's document, once its snapshot has come
  var seen = Object.create(null);   // ids in the feed that were on air (or held back) already
  var oldestSeen = -Infinity;       // the oldest check-in the last full feed reached back to
  var pins = Object.create(null);   // action id -> {g, dot, ring, title, timer}
  var calloutTimer = null;

  /* "40 people": ER.nt needs its words written out where it is called, for the catalog. */
  function people(n) {
    var value = typeof n === 'number' && isFinite(n) ? n : 0;
    return ER.nt('{n} person', '{n} people', value, { n: number.format(value) });
  }

  function killed() {
    return !doc || !doc.air || typeof doc.air !== 'object' || doc.air.killed !== false;
  }

  /* An action is in the spotlight (spotlight.js shows it), when not killed. */
  function spotlit() {
    var spot = doc.air.spotlight;
    return !!spot && typeof spot === 'object' && typeof spot.action === 'string' && spot.action !== '';
  }

  /* [x, y] in the map's 975x610 space, or null. */
  function pointOf(action) {
    var p = action && action.map;
    if (!Array.isArray(p) || p.length !== 2) return null;
    var x = p[0];
    var y = p[1];
    if (typeof x !== 'number' || typeof y !== 'number' || !isFinite(x) || !isFinite(y)) return null;
    if (x < 0 || x > WIDTH || y < 0 || y > HEIGHT) return null;
    return [x, y];
  }

  function mapped() {
    return ER.actionsOf(doc).filter(function (action) {
      return action && typeof action.id === 'string' && pointOf(action) !== null;
    });
  }

  function stateOf(action, t) {
    if (action.live === true) return 'live';
    return typeof action.ends_at === 'number' && t >= action.ends_at ? 'ended' : 'upcoming';
  }

  function place(item) {
    return [item.city, item.state].filter(Boolean).map(String).join(', ');
  }

  function label(action, state) {
    var where = place(action);
    var text = String(action.title || '') + (where ? ' — ' + where : '');
    if (state === 'live') {
      return text + ' · ' + ER.t('live now') + (typeof action.people === 'number' ? ', ' + people(action.people) : '');
    }
    return text + ' · ' + (state === 'ended' ? ER.t('ended') : ER.t('not live yet'));
  }

  function svg(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { el.setAttribute(key, String(attrs[key])); });
    return el;
  }

  /* <g class=pin data-action data-state role=img><title>text</title><circle ring/><circle dot/></g> */
  function makePin(id) {
    var g = svg('g', { class: 'pin', role: 'img' });
    g.dataset.action = id;
    var title = svg('title');
    var ring = svg('circle', { class: 'pin-ring', r: RADIUS.live });
    var dot = svg('circle', { class: 'pin-dot' });
    g.appendChild(title);
    g.appendChild(ring);
    g.appendChild(dot);
    return { g: g, title: title, ring: ring, dot: dot, timer: null };
  }

  function fill(el, topic) {
    var totals = topic.totals || {};
    var t = O.now();
    var actions = mapped();
    ER.setText(O.field(el, 'totals'), typeof totals.live === 'number' && totals.live > 0
      ? ER.nt('{n} action live now', '{n} actions live now', totals.live, { n: number.format(totals.live) }) + ' · ' +
        people(totals.people)
      : ER.nt('{n} action on the map', '{n} actions on the map', actions.length, { n: number.format(actions.length) }));
    var keep = Object.create(null);
    var drawn = actions.map(function (action, i) {
      return { action: action, state: stateOf(action, t), at: i };
    }).sort(function (a, b) { return ORDER[a.state] - ORDER[b.state] || a.at - b.at; });
    drawn.forEach(function (entry, i) {
      var action = entry.action;
      var point = pointOf(action);
      var pin = pins[action.id] || (pins[action.id] = makePin(action.id));
      keep[action.id] = true;
      var x = point[0].toFixed(1);
      var y = point[1].toFixed(1);
      pin.ring.setAttribute('cx', x);
      pin.ring.setAttribute('cy', y);
      pin.dot.setAttribute('cx', x);
      pin.dot.setAttribute('cy', y);
      pin.dot.setAttribute('r', String(RADIUS[entry.state]));
      if (pin.g.dataset.state !== entry.state) pin.g.dataset.state = entry.state;
      ER.setText(pin.title, label(action, entry.state));
      // Moved only when out of place: moving a pin restarts its pulse.
      if (layer.children[i] !== pin.g) layer.insertBefore(pin.g, layer.children[i] || null);
    });
    Object.keys(pins).forEach(function (id) {
      if (keep[id]) return;
      clearTimeout(pins[id].timer);
      pins[id].g.remove();
      delete pins[id];
    });
  }

  var graphic = new O.Graphic(root, fill, 'shows');

  function draw(instant) {
    // Until the snapshot comes nothing is known: the first state it brings is shown
    // without an entrance, like every overlay after a reload.
    if (!doc) return;
    var key = !killed() && mapped().length > 0 && !O.yields('checkin-map', null, spotlit() ? ['spotlight'] : [])
      ? 'map' : null;
    graphic.update(key, doc, instant);
    // Still on its way out (killed and back in a moment): come back once it is gone.
    if (key !== null && graphic.shown !== key) setTimeout(function () { draw(false); }, RETRY_MS);
  }

  function pulse(pin) {
    clearTimeout(pin.timer);
    delete pin.g.dataset.pulse;
    void pin.g.getBoundingClientRect();   // from the start, should it pulse already
    pin.g.dataset.pulse = 'true';
    pin.timer = setTimeout(function () { delete pin.g.dataset.pulse; }, PULSE_MS);
  }

  function hideCallout() {
    clearTimeout(calloutTimer);
    calloutTimer = null;
    callout.dataset.visible = 'false';
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  /* "Houston, TX — 40 people" by the pin at `point`, for a few seconds: beside it where it
   * fits whole, else above it (below, at the top edge); never past the map's edges. */
  function showCallout(item, point) {
    callout.textContent = '';
    callout.appendChild(ER.h('span', { class: 'place', text: place(item) }));
    callout.appendChild(document.createTextNode(' — '));
    callout.appendChild(ER.h('span', { class: 'count', text: people(item.headcount) }));
    var fw = frame.clientWidth;
    var fh = frame.clientHeight;
    var w = callout.offsetWidth;
    var h = callout.offsetHeight;
    var x = point[0] / WIDTH * fw;
    var y = point[1] / HEIGHT * fh;
    var side;
    var left;
    var top;
    if (x + CALLOUT_GAP + w <= fw) {
      side = 'right';
      left = x + CALLOUT_GAP;
    } else if (x - CALLOUT_GAP - w >= 0) {
      side = 'left';
      left = x - CALLOUT_GAP - w;
    } else {
      side = y - CALLOUT_GAP - h >= 0 ? 'above' : 'below';
      left = x - w / 2;
    }
    if (side === 'above') top = y - CALLOUT_GAP - h;
    else if (side === 'below') top = y + CALLOUT_GAP;
    else top = y - h / 2;
    callout.dataset.side = side;
    callout.style.left = Math.round(clamp(left, 0, Math.max(0, fw - w))) + 'px';
    callout.style.top = Math.round(clamp(top, 0, Math.max(0, fh - h))) + 'px';
    callout.dataset.visible = 'true';
    clearTimeout(calloutTimer);
    calloutTimer = setTimeout(hideCallout, CALLOUT_MS);
  }

  /* The check-ins that reached the air since the last document, newest first. The first
   * snapshot's are old news; while killed, everything in the feed is held back, and
   * what was held back does not burst onto the map when the switch goes off. */
  function freshOnAir(first) {
    var feed = Array.isArray(doc.feed) ? doc.feed : [];
    var before = seen;
    var oldest = oldestSeen;
    // What is remembered is this feed only (a page runs all day), and how far back it
    // reached: an older check-in that comes back when a newer one is hidden is no news.
    seen = Object.create(null);
    feed.forEach(function (item) { if (item && before[item.id]) seen[item.id] = true; });
    oldestSeen = feed.length >= ER.CHECKIN_FEED_SIZE && feed[feed.length - 1] ? feed[feed.length - 1].at : -Infinity;
    if (killed()) {
      feed.forEach(function (item) { if (item) seen[item.id] = true; });
      return [];
    }
    var ids = Array.isArray(doc.air.feed) ? doc.air.feed : [];
    var byId = Object.create(null);
    feed.forEach(function (item) { if (item) byId[item.id] = item; });
    var fresh = [];
    ids.forEach(function (id) {
      if (seen[id]) return;
      seen[id] = true;
      var item = byId[id];
      if (!first && item && !(item.at < oldest)) fresh.push(item);
    });
    return fresh;
  }

  function onCheckins(topic) {
    var first = doc === null;
    doc = topic;
    var fresh = freshOnAir(first);
    draw(false);
    if (killed()) { hideCallout(); return; }
    var called = false;
    fresh.forEach(function (item) {
      var pin = pins[item.action];
      if (!pin) return;
      pulse(pin);
      if (called) return;
      called = true;   // the newest one is named
      var action = mapped().filter(function (a) { return a.id === item.action; })[0];
      if (action) showCallout(item, pointOf(action));
    });
  }

  // overlay.js opens the one connection: it follows `checkins` too.
  ER.follow('checkins', onCheckins);
  O.start(function (show, d, t, instant) {
    draw(instant);
    return [];   // nothing here follows the show's clock
  });
  setInterval(function () { draw(false); }, CLOCK_MS);
})();
