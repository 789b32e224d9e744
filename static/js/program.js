/* What is on air, derived from (doc, now): every page and overlay uses the same rules,
 * so a participant's phone, the console and OBS never disagree. Instants are epoch ms
 * (UTC); they are only ever formatted with an explicit IANA zone. */
(function () {
  'use strict';
  var ER = (window.ER = window.ER || {});
  var SLOTS = ['lower_third', 'card', 'cta'];
  var GRAPHIC_KINDS = { lower_third: 'lower_third', stat: 'card', quote: 'card', cta: 'cta' };

  /* Lookup tables, built once per rundown array (merge patches replace it when it changes). */
  var indexCache = new WeakMap();
  function index(doc) {
    var rundown = (doc && doc.rundown) || [];
    var found = indexCache.get(rundown);
    if (found) return found;
    found = { segments: {}, cues: {}, order: {} };
    rundown.forEach(function (segment, i) {
      found.segments[segment.id] = segment;
      found.order[segment.id] = i;
      (segment.cues || []).forEach(function (cue) {
        found.cues[cue.id] = { cue: cue, segment: segment };
      });
    });
    indexCache.set(rundown, found);
    return found;
  }

  function segmentTiming(doc, id) {
    return (doc.timing && doc.timing.segments && doc.timing.segments[id]) || {};
  }

  function cueTiming(doc, id) {
    return (doc.timing && doc.timing.cues && doc.timing.cues[id]) || {};
  }

  /* 'live' | 'done' | 'upcoming' for one schedule row. */
  function segmentState(doc, id) {
    var program = doc.program || {};
    var idx = index(doc);
    if (program.phase === 'live' && program.segment === id) return 'live';
    if (program.phase === 'ended') return 'done';
    var current = idx.order[program.segment];
    if (current !== undefined && idx.order[id] < current) return 'done';
    return segmentTiming(doc, id).actual_end !== undefined ? 'done' : 'upcoming';
  }

  /* Everything a display needs about the program at `now`. */
  function derive(doc, now) {
    var program = doc.program || {};
    var idx = index(doc);
    var phase = program.phase || 'pending';
    var segment = idx.segments[program.segment] || null;
    var timing = segment ? segmentTiming(doc, segment.id) : {};
    var next = idx.segments[program.next_segment] || null;
    var out = {
      phase: phase,
      held: !!program.held,
      heldSince: program.held_since,
      segment: segment,
      timing: timing,
      next: next,
      nextTiming: next ? segmentTiming(doc, next.id) : {},
      cue: program.cue && idx.cues[program.cue] ? idx.cues[program.cue].cue : null,
      label: ER.t('Next'),
      start: null,          // live: when it went on air (elapsed counts from here)
      elapsed: null,
      remaining: null,
      overtime: false,      // live and the clock reads negative: at least a second past the end
      late: false,          // what viewers read as "running late": see viewerCountdown
      target: null,         // the instant the countdown counts to
      countdown: null,      // producers: ms to target (negative when over time)
      viewerCountdown: null, // participants and overlays: never negative, never while held
      progress: null,
      graphics: graphics(doc, now)
    };
    if (phase === 'live' && segment) {
      out.label = ER.t('On now');
      var start = timing.actual_start !== undefined ? timing.actual_start : timing.planned_start;
      out.start = start;
      out.elapsed = Math.max(0, now - start);
      out.remaining = timing.planned_end - now;
      // Over time once the rounded-up clock shows a negative second, not a millisecond
      // after the end: the autopilot moves on at the planned end, so the last second
      // reads 0:00 rather than flashing "over time".
      out.overtime = Math.ceil(out.remaining / 1000) < 0;
      out.target = timing.planned_end;
      out.countdown = out.remaining;
      // A held segment ends when the producer moves on, not at its planned end: viewers
      // get no countdown that claims an end, and no negative one.
      out.late = out.held || out.overtime;
      out.viewerCountdown = out.late ? null : Math.max(0, out.remaining);
      var length = timing.planned_end - start;
      out.progress = length > 0 ? Math.min(1, Math.max(0, (now - start) / length)) : 1;
    } else if ((phase === 'pending' || phase === 'gap') && segment) {
      // pending: the day has not begun; gap: between two segments.
      out.label = phase === 'pending' ? ER.t('Starting soon') : ER.t('Next');
      out.target = timing.planned_start;
      out.countdown = Math.max(0, timing.planned_start - now);
      // Held before it starts: it starts when the producer says, not on the clock.
      out.late = out.held && now >= timing.planned_start;
      out.viewerCountdown = out.held ? null : out.countdown;
    } else if (phase === 'ended') {
      out.label = ER.t('Ended');
      out.next = null;
    }
    return out;
  }

  /* The instants a display of `d` shows (see ER.tick): the countdown's target, the
   * on-air segment's start (elapsed, progress) and each graphic's `until`. */
  function flips(d) {
    var list = [];
    if (typeof d.target === 'number') list.push(d.target);
    if (typeof d.start === 'number') list.push(d.start);
    SLOTS.forEach(function (slot) {
      var g = d.graphics[slot];
      if (g && typeof g.until === 'number') list.push(g.until);
    });
    return list;
  }

  /* The cue on air in each graphics slot, or null; a graphic past its `until` is gone
   * already, even if the server's patch saying so has not arrived yet. */
  function graphics(doc, now) {
    var idx = index(doc);
    var result = {};
    SLOTS.forEach(function (slot) {
      var g = doc.graphics && doc.graphics[slot];
      var found = g && idx.cues[g.cue];
      result[slot] = found && !(g.until !== undefined && g.until <= now)
        ? { cue: found.cue, segment: found.segment, since: g.since, until: g.until }
        : null;
    });
    return result;
  }

  /* 12:05, 1:02:03, -0:42. Whole seconds rounded up, so 0:00 is shown only at zero. */
  function formatCountdown(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    var secs = Math.ceil(ms / 1000);
    return (secs < 0 ? '-' : '') + clock(Math.abs(secs));
  }

  /* Elapsed time: rounded down, never negative. */
  function formatElapsed(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    return clock(Math.max(0, Math.floor(ms / 1000)));
  }

  function clock(secs) {
    var h = Math.floor(secs / 3600);
    var m = Math.floor((secs % 3600) / 60);
    var s = secs % 60;
    var ss = (s < 10 ? '0' : '') + s;
    if (h > 0) return h + ':' + (m < 10 ? '0' : '') + m + ':' + ss;
    return m + ':' + ss;
  }

  var formatters = {};
  function formatter(locale, options) {
    var key = locale + '|' + JSON.stringify(options);
    if (!formatters[key]) formatters[key] = new Intl.DateTimeFormat(locale, options);
    return formatters[key];
  }

  function defaultLocale() {
    return document.documentElement.lang || 'en';
  }

  /* "EST", "PST": the zone's abbreviation as US English writes it, in every language. Spanish
   * would say "GMT-5", where the server's pages and the campaign say EST (timetext.zone_label). */
  function zoneAbbreviation(ms, zone) {
    var parts = formatter('en-US', { timeZone: zone, hour: 'numeric', timeZoneName: 'short' }).formatToParts(new Date(ms));
    var name = parts.filter(function (part) { return part.type === 'timeZoneName'; })[0];
    return name ? name.value : '';
  }

  /* "11:30 AM" (opts.zoneName: "11:30 AM EST"; opts.seconds; opts.weekday) in `zone`;
   * "11:30" in Spanish, a 24-hour clock. */
  function formatTime(ms, zone, locale, opts) {
    if (typeof ms !== 'number') return '';
    opts = opts || {};
    var options = { timeZone: zone, hour: 'numeric', minute: '2-digit' };
    if (opts.seconds) options.second = '2-digit';
    if (opts.weekday) options.weekday = 'short';
    var text = formatter(locale || defaultLocale(), options).format(new Date(ms));
    return opts.zoneName ? text + ' ' + zoneAbbreviation(ms, zone) : text;
  }

  /* The calendar day of an instant in a zone, e.g. "2022-03-03", for comparing days. */
  function dayKey(ms, zone) {
    return formatter('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date(ms));
  }

  /* A date-only string ("2021-10-08") as "Oct 8, 2021" (opts.long: "Friday, October 8, 2021").
   * It names a calendar day, not an instant, so it is formatted in UTC. */
  function formatDate(isoDate, locale, opts) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || '');
    if (!m) return isoDate || '';
    var ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    var options = opts && opts.long
      ? { timeZone: 'UTC', weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }
      : { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' };
    return formatter(locale || defaultLocale(), options).format(new Date(ms));
  }

  /* "America/Los_Angeles" -> "Los Angeles". */
  function zoneCity(zone) {
    var last = String(zone || '').split('/').pop();
    return last.replace(/_/g, ' ');
  }

  function viewerZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; }
  }

  function isValidZone(zone) {
    try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch (e) { return false; }
  }

  ER.program = {
    SLOTS: SLOTS,
    GRAPHIC_KINDS: GRAPHIC_KINDS,
    index: index,
    segment: function (doc, id) { return index(doc).segments[id] || null; },
    cue: function (doc, id) { return index(doc).cues[id] || null; },
    segmentTiming: segmentTiming,
    cueTiming: cueTiming,
    segmentState: segmentState,
    derive: derive,
    flips: flips,
    graphics: graphics,
    formatCountdown: formatCountdown,
    formatElapsed: formatElapsed,
    formatTime: formatTime,
    formatDate: formatDate,
    dayKey: dayKey,
    zoneCity: zoneCity,
    viewerZone: viewerZone,
    isValidZone: isValidZone
  };
})();
