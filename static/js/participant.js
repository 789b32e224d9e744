/* Participant page: the server rendered everything in the event's time zone; this puts
 * the viewer's own time first (the event's second), and adds the live "on now / up next"
 * box, schedule states, share links, copy buttons and the live count of the hashtag's
 * posts. Words go through ER.t (static/js/i18n.js), the schedule's texts through ER.tx. */
(function () {
  'use strict';
  var ER = window.ER;
  var P = ER.program;
  var ZONE_KEY = 'eventrunner.zone';
  var COMMON_ZONES = [
    'America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix',
    'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'America/Puerto_Rico',
    'America/Mexico_City', 'America/Toronto', 'America/Sao_Paulo', 'Europe/London',
    'Europe/Madrid', 'Europe/Berlin', 'Africa/Lagos', 'Asia/Kolkata', 'Asia/Manila',
    'Australia/Sydney', 'UTC'
  ];

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function field(name, root) { return $('[data-field="' + name + '"]', root); }

  var embedded = ER.readEmbeddedDoc();
  var contentKey = embedded ? ER.stableKey([embedded.event, embedded.rundown]) : '';
  var eventZone = (embedded && embedded.event && embedded.event.timezone) || 'UTC';
  var viewerZone = pickViewerZone();
  var client = null;
  var ticker = null;
  var lastTimesKey = '';

  function pickViewerZone() {
    var stored = ER.storage.get(ZONE_KEY);
    return stored && P.isValidZone(stored) ? stored : P.viewerZone();
  }

  // --- time zone picker -----------------------------------------------------------

  function setupZonePicker() {
    var select = $('#viewer-zone');
    if (!select) return;
    var detected = P.viewerZone();
    var zones = [detected, eventZone].concat(COMMON_ZONES, [viewerZone]);
    var seen = {};
    zones.forEach(function (zone) {
      if (seen[zone] || !P.isValidZone(zone)) return;
      seen[zone] = true;
      var label = P.zoneCity(zone) + (zone === detected ? ' ' + ER.t('(this device)') : '') +
        (zone === eventZone ? ' ' + ER.t('(event time)') : '');
      select.appendChild(ER.h('option', { value: zone, text: label }));
    });
    select.value = viewerZone;
    select.addEventListener('change', function () {
      viewerZone = select.value;
      ER.storage.set(ZONE_KEY, viewerZone);
      lastTimesKey = '';
      redraw();
    });
    select.closest('.zone-picker').hidden = false;
  }

  // --- formatting -------------------------------------------------------------------

  function range(start, end, zone, withZone) {
    if (typeof start !== 'number') return '';
    var text = P.formatTime(start, zone, null, { zoneName: withZone && typeof end !== 'number' });
    if (typeof end === 'number') text += ' – ' + P.formatTime(end, zone, null, { zoneName: withZone });
    return text;
  }

  function sameAsEvent(start, end) {
    return range(start, end, viewerZone, false) === range(start, end, eventZone, false) &&
      P.dayKey(start, viewerZone) === P.dayKey(start, eventZone);
  }

  /* The viewer's own time, the one they act on: "8:30 – 9:30 AM PST" (with the weekday
   * when it falls on another day than the event's). */
  function viewerRange(start, end) {
    if (typeof start !== 'number') return '';
    if (P.dayKey(start, viewerZone) === P.dayKey(start, eventZone)) return range(start, end, viewerZone, true);
    var text = P.formatTime(start, viewerZone, null, { weekday: true, zoneName: typeof end !== 'number' });
    if (typeof end === 'number') text += ' – ' + P.formatTime(end, viewerZone, null, { zoneName: true });
    return text;
  }

  /* Second, the event's own time: "11:30 AM – 12:30 PM EST event time", or '' when the
   * viewer's time reads the same. */
  function eventRange(start, end) {
    if (typeof start !== 'number' || sameAsEvent(start, end)) return '';
    return ER.t('{time} event time', { time: range(start, end, eventZone, true) });
  }

  function bothZones(start, end) {
    var second = eventRange(start, end);
    return viewerRange(start, end) + (second ? ' · ' + second : '');
  }

  // --- rendering --------------------------------------------------------------------

  function renderTimes(doc) {
    // Times only change with the document or the chosen zone, not every tick.
    var key = doc.version + '|' + viewerZone;
    if (key === lastTimesKey) return;
    lastTimesKey = key;
    $all('[data-segment]').forEach(function (row) {
      var t = P.segmentTiming(doc, row.dataset.segment);
      ER.setText(field('segment-time', row), viewerRange(t.planned_start, t.planned_end));
      ER.setText(field('segment-event-time', row), eventRange(t.planned_start, t.planned_end));
    });
    var note = field('zone-note');
    ER.setText(note, viewerZone === eventZone || sameAsEvent(Date.now(), undefined)
      ? ER.t('Times are shown in the event\'s time zone ({zone}).', { zone: P.zoneCity(eventZone) })
      : ER.t('Times are shown in your time zone ({zone}), then in the event\'s ({event}).',
        { zone: P.zoneCity(viewerZone), event: P.zoneCity(eventZone) }));
    var date = field('event-date');
    if (date && doc.event) ER.setText(date, P.formatDate(doc.event.date, null, { long: true }));
  }

  function renderRows(doc) {
    $all('[data-segment]').forEach(function (row) {
      var state = P.segmentState(doc, row.dataset.segment);
      if (row.dataset.state !== state) row.dataset.state = state;
      ER.setText(field('segment-status', row), state === 'live' ? ER.t('Live now') : state === 'done' ? ER.t('Done') : '');
    });
  }

  /* Never a countdown that is not true: held or past its planned end, a part "runs late"
   * and ends when it ends; a start on hold waits for the producers. */
  function statusText(d) {
    if (d.phase === 'ended') return ER.t('The program has ended. Thank you for taking action!');
    if (d.phase === 'live' && d.late) return ER.t('Running late: the next part starts when this one wraps up.');
    if (d.late) return ER.t('Running late: starting shortly.');
    if (d.held) return ER.t('Starting soon: waiting for the organizers.');
    return '';
  }

  /* "at 1:00 PM EST · …", or, when that time has gone by, when it will really be. */
  function nextTimeText(d, now) {
    var start = d.nextTiming.planned_start;
    if (typeof start !== 'number') return '';
    if (start > now) return ER.t('at {time}', { time: bothZones(start, undefined) });
    return d.phase === 'live' ? ER.t('after this part') : ER.t('later today');
  }

  function linkButtons(links) {
    var list = ER.h('ul', { class: 'links' });
    (links || []).forEach(function (link) {
      var url = ER.safeUrl(ER.tx(link, 'url'));
      if (!url) return;
      list.appendChild(ER.h('li', null, [
        ER.h('a', { class: 'button button-' + (link.kind || 'info'), href: url, text: ER.tx(link, 'label') })
      ]));
    });
    return list;
  }

  var nowLinksFor = null;
  function renderNow(doc, d, now) {
    var box = $('.now-next');
    if (!box) return;
    box.dataset.phase = d.phase;
    if (d.held) box.dataset.held = 'true'; else delete box.dataset.held;
    box.dataset.late = d.late ? 'true' : 'false';
    ER.setText(field('now-label', box), d.label);
    ER.setText(field('now-title', box), d.segment ? ER.tx(d.segment, 'title') : '');
    // Running late, the planned end is not when it ends: say when it started instead.
    ER.setText(field('now-time', box), !d.segment || d.phase === 'ended' ? ''
      : d.phase === 'live' && d.late ? ER.t('Started {time}', { time: bothZones(d.start, undefined) })
        : bothZones(d.timing.planned_start, d.timing.planned_end));
    ER.setText(field('now-status', box), statusText(d));

    // Only a countdown that is true: never negative, never while held (the console alone
    // shows over-time as a negative count).
    var line = $('.countdown-line', box);
    line.hidden = d.viewerCountdown === null;
    ER.setText(field('countdown-label', box), d.phase === 'live' ? ER.t('Ends in') : ER.t('Starts in'));
    ER.setText(field('countdown', box), d.viewerCountdown === null ? '' : P.formatCountdown(d.viewerCountdown));

    // The on-now segment's buttons (watch, register...), rebuilt only when it changes.
    var linksKey = d.phase === 'ended' || !d.segment ? '' : d.segment.id + '|' + doc.version;
    if (linksKey !== nowLinksFor) {
      nowLinksFor = linksKey;
      var holder = field('now-links', box);
      holder.textContent = '';
      if (linksKey) holder.appendChild(linkButtons(d.segment.links));
    }

    // Live: the segment after this one; pending/gap: the one after the upcoming one.
    var next = d.next;
    field('next-line', box).hidden = !next;
    ER.setText(field('next-title', box), next ? ER.tx(next, 'title') : '');
    ER.setText(field('next-time', box), next ? nextTimeText(d, now) : '');
  }

  /* Draws the page at the server's now; returns the instants on show (see ER.tick): the
   * countdown's target (it also marks when a part starts running late) and when the
   * next part's planned time goes by. */
  function render() {
    var doc = client && client.doc ? client.doc : embedded;
    if (!doc) return [];
    var now = client ? client.now() : Date.now();
    var d = P.derive(doc, now);
    renderNow(doc, d, now);
    renderRows(doc);
    renderTimes(doc);
    return [d.target, d.nextTiming.planned_start];
  }

  function redraw() {
    if (ticker) ticker.render(); else render();
  }

  function onDoc(doc) {
    // The schedule's text is rendered by the server: if the organizers changed it
    // (a new schedule loaded), fetch the page again rather than rebuild it here.
    var key = ER.stableKey([doc.event, doc.rundown]);
    if (contentKey && key !== contentKey) {
      contentKey = key;
      setTimeout(function () { window.location.reload(); }, Math.random() * 5000);
    }
    if (doc.event && doc.event.timezone) eventZone = doc.event.timezone;
    redraw();
  }

  // --- share links and copy buttons ---------------------------------------------------

  function setupShare() {
    var stored = ER.mastodonHost(ER.storage.get(ER.MASTODON_KEY)) || 'mastodon.social';
    var inputs = $all('.mastodon-instance');
    function update(host) {
      $all('.post').forEach(function (post) {
        var text = encodeURIComponent($('.post-text', post).textContent.trim());
        $('[data-share="x"]', post).setAttribute('href', 'https://twitter.com/intent/tweet?text=' + text);
        $('[data-share="bluesky"]', post).setAttribute('href', 'https://bsky.app/intent/compose?text=' + text);
        $('[data-share="mastodon"]', post).setAttribute('href', 'https://' + host + '/share?text=' + text);
      });
    }
    inputs.forEach(function (input) {
      input.value = stored;
      input.addEventListener('change', function () {
        var host = ER.mastodonHost(input.value);
        input.setAttribute('aria-invalid', host ? 'false' : 'true');
        if (!host) return;
        inputs.forEach(function (other) { other.value = host; });
        ER.storage.set(ER.MASTODON_KEY, host);
        update(host);
      });
    });
    update(stored);
  }

  function setupCopy() {
    $all('[data-copy]').forEach(function (button) {
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener('click', function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        ER.copyText(source.textContent.trim()).then(function (ok) {
          button.textContent = ok ? ER.t('Copied') : ER.t('Select and copy by hand');
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  }

  // --- the hashtag's post count (the `posts` topic) ----------------------------------------

  /* "12,345 posts with #CommunitiesNotCages so far · goal 20,000" beside the Twitterstorm's
   * sample posts (or under the hashtags), as text. It changes up to 4 times a second, so
   * the line itself is not announced; its summary, a polite live region, says the newest
   * count at most once a minute, and not at all for the count the page opened with. */
  var POSTS_ANNOUNCE_MS = 60000;

  function setupPostCount() {
    var boxes = $all('[data-field="post-count"]');
    if (!boxes.length) return;
    var number = new Intl.NumberFormat(ER.lang);
    var summary = field('post-count-summary', boxes[0]);   // one live region for the page
    var said = null;          // the summary of the last count announced (or opened with)
    var saidAt = 0;
    var waiting = null;       // the newest summary, until its turn
    var timer = null;

    function announce() {
      timer = null;
      if (waiting === null || waiting === said) return;
      said = waiting;
      saidAt = Date.now();
      ER.setText(summary, waiting);
    }

    ER.follow('posts', function (topic) {
      var total = typeof topic.total === 'number' && isFinite(topic.total) ? Math.max(0, Math.round(topic.total)) : 0;
      var goal = typeof topic.goal === 'number' && isFinite(topic.goal) && topic.goal > 0 ? topic.goal : null;
      var tag = String(topic.hashtag || '');
      var words = tag ? ER.nt('post with {tag} so far', 'posts with {tag} so far', total, { tag: tag })
        : ER.nt('post so far', 'posts so far', total);
      var goalText = goal === null ? '' : ER.t('goal {goal}', { goal: number.format(goal) });
      boxes.forEach(function (box) {
        box.hidden = !(total > 0 || goal !== null);
        ER.setText(field('post-count-total', box), number.format(total));
        ER.setText(field('post-count-text', box), words + (goalText ? ' · ' + goalText : ''));
      });
      var sentence = number.format(total) + ' ' + words + (goalText ? ', ' + goalText : '') + '.';
      if (said === null) {    // what the page opened with is on it: nothing to announce
        said = sentence;
        saidAt = Date.now();
        return;
      }
      waiting = sentence;
      if (!timer) timer = setTimeout(announce, Math.max(0, saidAt + POSTS_ANNOUNCE_MS - Date.now()));
    });
  }

  function setupConnectionText() {
    var text = field('connection-text');
    client.onConnection = function (connected) {
      ER.setText(text, connected ? ER.t('Live: this page updates by itself.')
        : ER.t('Reconnecting… the schedule above may be out of date.'));
    };
  }

  setupZonePicker();
  setupShare();
  setupCopy();
  setupPostCount();   // follows `posts`: before the page's one connection opens
  client = ER.connect('/public', onDoc);
  setupConnectionText();
  ticker = ER.tick(render, client);
  ticker.render();
})();
