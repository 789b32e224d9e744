/* Check-in ticker: the approved check-ins of the `checkins` topic in a slim band along
 * the bottom, "City, ST — 40 people: message", one at a time and newest first, beside
 * the totals ("3 actions live · 120 people"). A check-in that comes in goes on next;
 * then the band cycles calmly through the feed. One longer than the band glides left,
 * after a moment, to its end, and stays until it has been read. ?seconds= is how long
 * each one stays at least (4 to 30, default 8; eventrunner/web/overlays.py says the
 * same). It obeys the topic's `air`, what producers let on air: only the check-ins
 * listed in `air.feed` (their on-air delay already applied) show, in the order of
 * `feed`, and while `air.killed` (the kill switch) the whole band, totals included, is
 * off. A topic without `air` puts nothing on air. Hidden while no check-in may be on
 * air, and while a call to action is: they share the bottom strip. Everything in it was
 * typed by someone on the internet: it is only ever set as text. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var SECONDS_MIN = 4;
  var SECONDS_MAX = 30;
  var SECONDS_DEFAULT = 8;
  var FADE_MS = 650;           // a little over the crossfade in overlay.css
  var GLIDE_AFTER_MS = 2000;   // a long one is read from its start this long first
  var GLIDE_PX_PER_S = 110;
  var GLIDE_HOLD_MS = 2500;    // and stays at its end this long

  var asked = parseFloat(O.options.params.get('seconds'));
  var dwellMs = 1000 * (isFinite(asked) && asked >= SECONDS_MIN && asked <= SECONDS_MAX ? asked : SECONDS_DEFAULT);
  var number = new Intl.NumberFormat(ER.lang);

  var root = document.querySelector('.checkin-ticker');
  var list = O.field(root, 'items');
  var doc = null;       // the topic's document, once its snapshot has come
  var aside = false;    // a call to action is on air
  var current = null;   // the id of the check-in on screen
  var seen = {};        // ids that have been on screen (or were in the feed at load)
  var rows = {};        // id -> its <li>
  var timer = null;

  /* "40 people": ER.nt needs its words written out where it is called, for the catalog. */
  function people(n) {
    var value = typeof n === 'number' && isFinite(n) ? n : 0;
    return ER.nt('{n} person', '{n} people', value, { n: number.format(value) });
  }

  /* The check-ins that may be on air now, newest first: those of `feed` that `air.feed`
   * lists; none while the kill switch is on (or when the topic says nothing of air). */
  function items() {
    if (killed() || !Array.isArray(doc.feed) || !Array.isArray(doc.air.feed)) return [];
    var onAir = Object.create(null);
    doc.air.feed.forEach(function (id) { onAir[id] = true; });
    return doc.feed.filter(function (item) { return item && onAir[item.id] === true; });
  }

  function killed() {
    return !doc || !doc.air || typeof doc.air !== 'object' || doc.air.killed !== false;
  }

  /* <li><span class=ticker-text><b>City, ST</b> — <b>40 people</b>: message</span></li>,
   * every part a text node. */
  function makeRow(item) {
    var message = String(item.message || '');
    var text = ER.h('span', { class: 'ticker-text' }, [
      ER.h('span', { class: 'place', text: [item.city, item.state].filter(Boolean).join(', ') }),
      ' — ',
      ER.h('span', { class: 'count', text: people(item.headcount) }),
      message ? ': ' : null,
      message ? ER.h('span', { class: 'message', text: message }) : null
    ]);
    return ER.h('li', { dataset: { checkin: String(item.id), current: 'false' } }, [text]);
  }

  /* The next to show: the newest that has not been on screen yet, else the one after. */
  function step() {
    var feed = items();
    var next = null;
    for (var i = 0; i < feed.length && next === null; i += 1) {
      if (!seen[feed[i].id]) next = feed[i].id;
    }
    if (next === null && feed.length) {
      var at = feed.findIndex(function (item) { return item.id === current; });
      next = feed[(at + 1) % feed.length].id;   // at -1 (it is gone): the newest
    }
    current = next;
    if (next !== null) seen[next] = true;
  }

  function fill(el, topic) {
    var totals = topic.totals || {};
    ER.setText(O.field(el, 'totals'),
      ER.nt('{n} action live', '{n} actions live', totals.live, { n: number.format(totals.live) }) + ' · ' +
        people(totals.people));
    var keep = {};
    items().forEach(function (item, i) {
      var id = String(item.id);
      keep[id] = true;
      if (!rows[id]) rows[id] = makeRow(item);
      // Moved only when out of place: moving a row restarts its fade.
      if (list.children[i] !== rows[id]) list.insertBefore(rows[id], list.children[i] || null);
    });
    Object.keys(rows).forEach(function (id) {
      if (keep[id]) return;
      rows[id].remove();
      delete rows[id];
    });
    Object.keys(rows).forEach(function (id) {
      var on = id === String(current);
      rows[id].dataset.current = on ? 'true' : 'false';
      rows[id].setAttribute('aria-hidden', on ? 'false' : 'true');
    });
    el.dataset.current = current === null ? '' : String(current);
  }

  var graphic = new O.Graphic(root, fill, 'shows');

  function draw(instant) {
    // Until the snapshot comes nothing is known: the first state it brings is shown
    // without an entrance, like every overlay after a reload.
    if (!doc) return;
    var any = !killed() && items().length > 0;
    graphic.update(any && !aside ? 'feed' : null, doc, instant);
    // Still on its way out (the feed emptied a moment ago): come back once it is gone.
    if (any && !aside && !graphic.visible) setTimeout(function () { draw(false); }, FADE_MS);
  }

  /* A row wider than the band glides to its end after a moment; returns how long that
   * takes from now, with the hold at the end (0 when it fits). */
  function glide(id) {
    var row = rows[id];
    if (!row) return 0;
    var text = row.firstChild;
    var overflow = Math.ceil(text.scrollWidth - row.clientWidth);
    if (overflow <= 0) return 0;
    var ms = Math.round(1000 * overflow / GLIDE_PX_PER_S);
    setTimeout(function () {
      if (current !== id) return;
      text.style.transition = 'transform ' + ms + 'ms linear';
      text.style.transform = 'translateX(' + -overflow + 'px)';
    }, GLIDE_AFTER_MS);
    return GLIDE_AFTER_MS + ms + GLIDE_HOLD_MS;
  }

  /* Back to its start, unseen (once it has faded out). */
  function rest(id) {
    var row = rows[id];
    if (!row || current === id) return;
    row.firstChild.style.transition = 'none';
    row.firstChild.style.transform = '';
  }

  function schedule(glideMs) {
    clearTimeout(timer);
    timer = null;
    if (items().length > 1 || glideMs > 0) timer = setTimeout(advance, Math.max(dwellMs, glideMs));
  }

  function advance() {
    timer = null;
    var before = current;
    step();
    if (current === null) return;
    var shown = current;
    if (shown === before) {
      // The only one, and longer than the band: out, back to its start, in again.
      current = null;
      draw(false);
      setTimeout(function () {
        rest(shown);
        if (current !== null) return;
        current = shown;
        draw(false);
        schedule(glide(shown));
      }, FADE_MS);
      return;
    }
    draw(false);
    setTimeout(function () { rest(before); }, FADE_MS);
    schedule(glide(shown));
  }

  function onCheckins(topic) {
    var first = doc === null;
    doc = topic;
    var feed = items();
    if (first) feed.forEach(function (item) { seen[item.id] = true; });   // on screen already, as far as we know
    var before = current;
    var stillThere = feed.some(function (item) { return item.id === before; });
    if (stillThere) {
      draw(false);
      if (!timer) schedule(0);
      return;
    }
    step();   // the first state, or a producer hid the one on screen: on with the next
    draw(false);
    if (before !== null) setTimeout(function () { rest(before); }, FADE_MS);
    // After the first paint (which is instant, without transitions) has settled.
    setTimeout(function () { if (current !== null) schedule(glide(current)); }, 50);
  }

  // overlay.js opens the one connection: it follows `checkins` too.
  ER.follow('checkins', onCheckins);
  O.start(function (show, d, now, instant) {
    aside = O.yields('checkin-ticker', d);
    draw(instant);
    return O.untils(d);   // when the call to action comes off by itself, come back
  });
})();
