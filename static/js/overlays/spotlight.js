/* Spotlight card: the local action producers put in the spotlight (the `checkins` topic's
 * `air.spotlight`), on a card in the upper left (?align=right: the upper right), where it
 * takes the check-in map's slot: its type, title and "City, ST", and its newest check-in that has
 * reached the air, if any ("40 people", when, the message, the photo). Without one, when
 * the action starts or runs until. Another action in the spotlight takes the card off
 * and brings the new one on; a newer check-in of the same action updates it in place.
 * Entrances go through O.Graphic, so a reload or reconnect never replays one.
 *
 * Hidden while nothing is in the spotlight and while `air.killed` (the kill switch).
 * Long titles and messages get smaller type, then are cut after a few lines (O.fitText).
 * Everything in it was typed by someone on the internet: it is only ever set as text, and
 * the photo's src is only ever a server path of the form /api/photos/<id>.jpg. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;
  var PHOTO = /^\/api\/photos\/[A-Za-z0-9_-]+\.jpg$/;
  var RETRY_MS = 500;          // a little over the exit in overlay.css
  var CLOCK_MS = 5000;         // "12 min ago" keeps up
  var number = new Intl.NumberFormat(ER.lang);

  var root = document.querySelector('.spotlight');
  var photo = O.field(root, 'photo');
  var doc = null;        // the topic's document, once its snapshot has come

  function killed() {
    return !doc || !doc.air || typeof doc.air !== 'object' || doc.air.killed !== false;
  }

  function spotlight() {
    if (killed()) return null;
    var spot = doc.air.spotlight;
    return spot && typeof spot === 'object' && typeof spot.action === 'string' && spot.action ? spot : null;
  }

  /* "40 people": ER.nt needs its words written out where it is called, for the catalog. */
  function people(n) {
    var value = typeof n === 'number' && isFinite(n) ? n : 0;
    return ER.nt('{n} person', '{n} people', value, { n: number.format(value) });
  }

  /* The action as the topic lists it (its zone and times), or null. */
  function actionOf(id) {
    return ER.actionsOf(doc).filter(function (action) { return action.id === id; })[0] || null;
  }

  function zoneOf(action) {
    return action && typeof action.timezone === 'string' && P.isValidZone(action.timezone) ? action.timezone : null;
  }

  function clockTime(ms, zone) {
    return zone && typeof ms === 'number' ? P.formatTime(ms, zone, 'en-US', { zoneName: true }) : '';
  }

  function ago(ms, t) {
    var s = Math.max(0, Math.floor((t - ms) / 1000));
    if (s < 60) return 'just now';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }

  /* "6:42 PM CDT · 12 min ago" */
  function checkinWhen(checkin, zone, t) {
    if (typeof checkin.at !== 'number') return '';
    return [clockTime(checkin.at, zone), ago(checkin.at, t)].filter(Boolean).join(' · ');
  }

  /* Without a check-in: "Starts 6:00 PM CST", "Until 8:00 PM CST" or "Ended". */
  function actionWhen(action, zone, t) {
    if (!action || typeof action.starts_at !== 'number' || typeof action.ends_at !== 'number') return '';
    if (t >= action.ends_at) return ER.t('Ended');
    if (t >= action.starts_at) return zone ? ER.t('Until {time}', { time: clockTime(action.ends_at, zone) }) : '';
    return zone ? ER.t('Starts {time}', { time: clockTime(action.starts_at, zone) }) : '';
  }

  function setPhoto(src) {
    if (src) {
      if (photo.getAttribute('src') !== src) {
        photo.setAttribute('src', src);
        root.dataset.photo = 'true';
      }
    } else {
      photo.removeAttribute('src');
      root.dataset.photo = 'false';
    }
  }

  // A photo that fails to load (hidden a moment ago) leaves no broken frame.
  photo.addEventListener('error', function () { root.dataset.photo = 'false'; });
  photo.addEventListener('load', function () { if (photo.getAttribute('src')) root.dataset.photo = 'true'; });

  function fill(el, spot) {
    var t = O.now();
    var action = actionOf(spot.action);
    var zone = zoneOf(action);
    var title = String(spot.title || '');
    var type = ER.actionType(spot.type);
    ER.setText(O.field(el, 'kicker'), type ? ER.t('Spotlight') + ' · ' + type : ER.t('Spotlight'));
    O.fitText(O.field(el, 'title'), title);
    ER.setText(O.field(el, 'place'), [spot.city, spot.state].filter(Boolean).map(String).join(', '));
    var checkin = spot.checkin && typeof spot.checkin === 'object' ? spot.checkin : null;
    var message = checkin ? String(checkin.message || '') : '';
    ER.setText(O.field(el, 'count'), checkin ? people(checkin.headcount) : '');
    ER.setText(O.field(el, 'when'), checkin ? checkinWhen(checkin, zone, t) : actionWhen(action, zone, t));
    var details = O.field(el, 'checkin');
    var empty = !O.field(el, 'count').textContent && !O.field(el, 'when').textContent && !message;
    if (details.hidden !== empty) details.hidden = empty;
    O.fitText(O.field(el, 'message'), message);   // once shown: it is measured
    el.dataset.checkin = checkin ? String(checkin.id || 'true') : 'false';
    setPhoto(checkin && typeof checkin.photo === 'string' && PHOTO.test(checkin.photo) ? checkin.photo : null);
  }

  var graphic = new O.Graphic(root, fill, 'action');

  function draw(instant) {
    // Until the snapshot comes nothing is known: the first state it brings is shown
    // without an entrance, like every overlay after a reload.
    if (!doc) return;
    var spot = spotlight();
    var key = spot ? spot.action : null;
    graphic.update(key, spot, instant);
    // The card of another action is still on its way out: the new one, once it is gone.
    if (key !== null && graphic.shown !== key) setTimeout(function () { draw(false); }, RETRY_MS);
  }

  // overlay.js opens the one connection: it follows `checkins` too.
  ER.follow('checkins', function (topic) {
    doc = topic;
    draw(false);
  });
  O.start(function (show, d, t, instant) {
    draw(instant);
    return [];   // its own clock below keeps "12 min ago" current
  });
  setInterval(function () { draw(false); }, CLOCK_MS);
})();
